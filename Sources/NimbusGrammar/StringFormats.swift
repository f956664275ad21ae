/// `format` values as regular expressions over the string's content. Each admits only strings the
/// format's checker accepts (days fit their month; February stops at 28), so output validates.
/// Formats of open length have shorter variants, tried in order, so a schema's `maxLength` can
/// be met by a narrower spelling rather than refused.
enum StringFormats {
    private static let month31 = "(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    private static let month30 = "(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    private static let february = "02-(?:0[1-9]|1[0-9]|2[0-8])"
    static let date = "[0-9]{4}-(?:\(month31)|\(month30)|\(february))"
    static let time = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
    private static let octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    private static let label = "[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?"

    static let patterns: [String: [String]] = [
        "date": [date],
        "time": [time],
        "date-time": [date + "T" + time],
        "uuid": ["[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"],
        "email": ["[a-zA-Z0-9._+-]{1,32}@\(label)(?:\\.\(label)){0,2}\\.[a-z]{2,8}",
                  "[a-z0-9._+-]{1,16}@[a-z0-9]{1,12}\\.[a-z]{2,6}",
                  "[a-z0-9._]{1,8}@[a-z0-9]{1,6}\\.[a-z]{2,3}"],
        "ipv4": ["\(octet)\\.\(octet)\\.\(octet)\\.\(octet)"],
        "hostname": ["\(label)(?:\\.\(label)){0,3}", "[a-z0-9]{1,12}(?:\\.[a-z0-9]{1,8})?"],
        "uri": ["https?://\(label)(?:\\.\(label)){0,3}(?:/[a-zA-Z0-9._~-]{0,20}){0,4}",
                "https://[a-z0-9]{1,12}\\.[a-z]{2,4}(?:/[a-z0-9]{1,8}){0,1}"],
    ]
}
