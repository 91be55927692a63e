/// The library's version.
public enum ConvBankVersion {
    /// The version as `MAJOR.MINOR.PATCH`, equal to the release tag.
    public static let string = "0.3.0"
}
