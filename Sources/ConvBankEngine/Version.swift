/// The library's version.
public enum ConvBankVersion {
    /// The version as `MAJOR.MINOR.PATCH`: the release tag it was built from, or the next version with `-dev` between
    /// releases.
    public static let string = "0.4.0-dev"
}
