/// Turns the bytes of one list file into an ``ImportedList``.
///
/// Lines end with `\n` or `\r\n`; blank lines, surrounding blanks and `#` comments (whole
/// lines, or after a blank — in `expressions` files too, so a pattern cannot contain ` #`)
/// are ignored; a bad line becomes an ``ImportProblem`` and never stops the import.
enum ListParser {
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, file: ImportFile) -> ImportedList {
        // About 20 bytes a line in real lists: enough to grow the set once or not at all.
        var builder = ListBuilder(file: file, expectedLines: bytes.count / 20)
        var scanner = LineScanner(bytes)
        while let line = scanner.next() {
            let content = line.content
            switch file.format {
            case .adblock:
                // Adblock rules may start with `#` (cosmetic rules): the parser sees every line.
                builder.record(AdblockLine.parse(line), line: line)
            case _ where content.isEmpty:
                continue
            case .domains:
                builder.record(DomainLine.parse(content), line: line)
            case .urls:
                builder.record(URLLine.parse(content), line: line)
            case .expressions:
                builder.record(ExpressionLine.parse(content), line: line)
            case .hosts:
                HostsLine.parse(content) { builder.record($0, line: line) }
            }
        }
        return builder.finish()
    }
}
