import NIOHTTP1

/// The methods the proxy treats specially, told apart by their case.
///
/// `HTTPMethod` is `RawRepresentable` as well as `Equatable`, and `method == .CONNECT` picks the
/// standard library's `==` for raw-representable types: it builds both `rawValue` strings and
/// compares them, on every request. A pattern match compares the cases. Every method the
/// parsers make is in its named case (`HTTPMethod(rawValue: "CONNECT")` is `.CONNECT`, never
/// `.RAW`), so the two agree.
extension HTTPMethod {
    var isCONNECT: Bool {
        if case .CONNECT = self { return true }
        return false
    }

    var isHEAD: Bool {
        if case .HEAD = self { return true }
        return false
    }

    var isOPTIONS: Bool {
        if case .OPTIONS = self { return true }
        return false
    }

    var isTRACE: Bool {
        if case .TRACE = self { return true }
        return false
    }
}
