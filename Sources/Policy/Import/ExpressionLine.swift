#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A line of a squidGuard `expressions` file: a POSIX extended regular expression, matched
/// case-insensitively. It is checked by compiling it the way the matcher will
/// (`regcomp` with `REG_EXTENDED | REG_ICASE | REG_NOSUB`) and stored as written.
enum ExpressionLine {
    static func parse(_ content: UnsafeBufferPointer<UInt8>) -> LineOutcome {
        if content.contains(0) { return .problem("contains a NUL byte") }
        guard let pattern = String(validating: content, as: UTF8.self) else { return .problem("is not valid UTF-8") }
        if let message = Self.compileError(pattern) { return .problem("invalid regular expression: \(message)") }
        return .value(pattern)
    }

    /// `regcomp`'s message if `pattern` does not compile, nil if it does.
    static func compileError(_ pattern: String) -> String? {
        var expression = regex_t()
        let code = regcomp(&expression, pattern, Self.flags)
        guard code != 0 else {
            regfree(&expression)
            return nil
        }
        var message = [CChar](repeating: 0, count: 256)
        regerror(code, &expression, &message, message.count)
        let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let flags = REG_EXTENDED | REG_ICASE | REG_NOSUB
}
