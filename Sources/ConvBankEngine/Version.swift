/// The library's version.
public enum ConvBankVersion {
    public static let string = "0.2.0"
}
