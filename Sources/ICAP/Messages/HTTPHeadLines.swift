import NIOCore
import NIOHTTP1

/// An encapsulated HTTP head split into its start line and fields, strictly: every line ends in
/// CRLF, no bare CR or LF, no folded lines, and the one empty line is the last line.
struct HTTPHeadLines {
    var startLine: ArraySlice<UInt8>
    var headers: HTTPHeaders

    init(_ buffer: ByteBuffer, section: String) throws(ICAPParseError) {
        let bytes = Array(buffer.readableBytesView)
        var lines: [Range<Int>] = []
        var lineStart = 0
        var index = 0
        var sawEmptyLine = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.lf {
                throw .badHTTPHead(section, offset: index, "bare LF (lines must end in CRLF)")
            }
            if byte == ASCII.cr {
                guard index + 1 < bytes.count, bytes[index + 1] == ASCII.lf else {
                    throw .badHTTPHead(section, offset: index, "CR not followed by LF")
                }
                if sawEmptyLine { throw .badHTTPHead(section, offset: lineStart, "bytes after the empty line") }
                if index == lineStart {
                    guard !lines.isEmpty else { throw .badHTTPHead(section, offset: 0, "empty start line") }
                    sawEmptyLine = true
                } else {
                    lines.append(lineStart..<index)
                }
                index += 2
                lineStart = index
                continue
            }
            if sawEmptyLine { throw .badHTTPHead(section, offset: index, "bytes after the empty line") }
            index += 1
        }
        guard sawEmptyLine, lineStart == bytes.count else {
            throw .badHTTPHead(section, offset: bytes.count, "the head does not end with an empty line (CRLF CRLF)")
        }
        self.startLine = bytes[lines[0]]
        var fields: [(String, String)] = []
        for range in lines.dropFirst() {
            let line = bytes[range]
            guard let colon = line.firstIndex(of: ASCII.colon), colon > line.startIndex,
                line[..<colon].allSatisfy(ASCII.isTokenByte)
            else {
                throw .badHTTPHead(
                    section, offset: range.lowerBound, "field line \(ICAPParseError.quoted(ASCII.string(line)))")
            }
            let value = ASCII.trimmed(line[(colon + 1)...])
            guard value.allSatisfy(ASCII.isFieldValueByte) else {
                throw .badHTTPHead(
                    section, offset: range.lowerBound, "control bytes in field \(ASCII.string(line[..<colon]))")
            }
            fields.append((ASCII.string(line[..<colon]), ASCII.string(value)))
        }
        self.headers = HTTPHeaders(fields)
    }
}
