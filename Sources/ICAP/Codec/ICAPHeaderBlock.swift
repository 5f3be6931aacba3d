/// An ICAP header block split into its start line and header fields (RFC 3507 §4.3): every line
/// ends in CRLF (the scanner saw to that), no folded lines, names are tokens, values hold no
/// control bytes.
struct ICAPHeaderBlock {
    var startLine: ArraySlice<UInt8>
    var headers: ICAPHeaders

    /// Splits `bytes`, a whole block through its CRLF CRLF.
    init(_ bytes: [UInt8]) throws(ICAPParseError) {
        var lines: [Range<Int>] = []
        var lineStart = 0
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == ASCII.cr && bytes[index + 1] == ASCII.lf {
                if index == lineStart { break }
                lines.append(lineStart..<index)
                index += 2
                lineStart = index
            } else {
                index += 1
            }
        }
        guard let first = lines.first else { throw .badStartLine("") }
        self.startLine = bytes[first]
        guard self.startLine.allSatisfy(ASCII.isFieldValueByte) else {
            throw .badStartLine(ASCII.string(self.startLine))
        }
        var headers = ICAPHeaders()
        for range in lines.dropFirst() {
            let line = bytes[range]
            guard let colon = line.firstIndex(of: ASCII.colon), colon > line.startIndex,
                line[..<colon].allSatisfy(ASCII.isTokenByte)
            else {
                throw .badHeaderLine(offset: range.lowerBound, line: ASCII.string(line))
            }
            let value = ASCII.trimmed(line[(colon + 1)...])
            guard value.allSatisfy(ASCII.isFieldValueByte) else {
                throw .badHeaderLine(offset: range.lowerBound, line: ASCII.string(line))
            }
            headers.add(name: ASCII.string(line[..<colon]), value: ASCII.string(value))
        }
        self.headers = headers
    }

    /// `METHOD SP icap-uri SP ICAP/1.0`, checked in that order: shape, version, method.
    func requestLine() throws(ICAPParseError) -> (method: ICAPMethod, uri: String, version: ICAPVersion) {
        let parts = self.startLine.split(separator: ASCII.space, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(ASCII.isTokenByte), !parts[1].isEmpty,
            parts[1].allSatisfy(ASCII.isVisibleByte)
        else { throw .badStartLine(ASCII.string(self.startLine)) }
        let version = try Self.version(parts[2], line: self.startLine)
        guard let method = ICAPMethod(rawValue: ASCII.string(parts[0])) else {
            throw .unknownMethod(ASCII.string(parts[0]))
        }
        return (method, ASCII.string(parts[1]), version)
    }

    /// `ICAP/1.0 SP 3DIGIT [SP reason-phrase]`.
    func statusLine() throws(ICAPParseError) -> (version: ICAPVersion, code: Int, reason: String) {
        let line = self.startLine
        guard let space = line.firstIndex(of: ASCII.space) else { throw .badStartLine(ASCII.string(line)) }
        let version = try Self.version(line[..<space], line: line)
        let rest = line[(space + 1)...]
        guard rest.count >= 3, rest.prefix(3).allSatisfy(ASCII.isDigit),
            rest.count == 3 || rest[rest.startIndex + 3] == ASCII.space
        else { throw .badStartLine(ASCII.string(line)) }
        let code = rest.prefix(3).reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard code >= 100 else { throw .badStartLine(ASCII.string(line)) }
        return (version, code, ASCII.string(rest.dropFirst(4)))
    }

    /// `ICAP/1.0`; `ICAP/x.y` of another version is unsupported, anything else malformed.
    private static func version(
        _ bytes: ArraySlice<UInt8>, line: ArraySlice<UInt8>
    ) throws(ICAPParseError) -> ICAPVersion {
        guard bytes.count == 8, bytes.starts(with: "ICAP/".utf8), ASCII.isDigit(bytes[bytes.startIndex + 5]),
            bytes[bytes.startIndex + 6] == UInt8(ascii: "."), ASCII.isDigit(bytes[bytes.startIndex + 7])
        else { throw .badStartLine(ASCII.string(line)) }
        let version = ICAPVersion(
            major: Int(bytes[bytes.startIndex + 5] - UInt8(ascii: "0")),
            minor: Int(bytes[bytes.startIndex + 7] - UInt8(ascii: "0")))
        guard version == .icap1_0 else { throw .unsupportedVersion(ASCII.string(bytes)) }
        return version
    }

    /// The value of a header that may occur at most once.
    func single(_ name: String) throws(ICAPParseError) -> String? {
        let values = self.headers.values(name: name)
        guard values.count <= 1 else { throw .duplicateHeader(name) }
        return values.first
    }
}
