#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A POSIX extended regular expression (squidGuard's `expressions` dialect), compiled
/// case-insensitively for "does it match anywhere" questions.
///
/// glibc's `regexec` takes a lock inside the compiled pattern, so one instance must not be
/// shared by threads that match at the same time: the snapshot keeps one per thread
/// (`RegexBank`).
final class PosixRegex {
    private var compiled = regex_t()
    let pattern: String

    init(_ pattern: String) throws(PolicyInputError) {
        self.pattern = pattern
        let status = regcomp(&self.compiled, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB)
        guard status == 0 else {
            var message = [CChar](repeating: 0, count: 256)
            regerror(status, &self.compiled, &message, message.count)
            regfree(&self.compiled)
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw PolicyInputError(field: "regex", value: pattern, problem: text)
        }
    }

    deinit { regfree(&self.compiled) }

    /// Whether the pattern matches somewhere in the NUL-terminated `text`.
    func matches(cString text: UnsafePointer<CChar>) -> Bool {
        regexec(&self.compiled, text, 0, nil, 0) == 0
    }

    func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            // regexec wants a NUL-terminated string.
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { buffer in
                for index in 0..<bytes.count { buffer[index] = CChar(bitPattern: bytes[index]) }
                buffer[bytes.count] = 0
                return regexec(&self.compiled, buffer.baseAddress!, 0, nil, 0) == 0
            }
        }
    }
}
