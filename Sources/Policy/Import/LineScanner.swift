#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One non-blank line of a list file.
struct ListLine {
    /// 1-based.
    let number: Int
    /// The line without its end (`\n` or `\r\n`) and surrounding spaces and tabs.
    let text: UnsafeBufferPointer<UInt8>

    /// The line without a trailing comment (a `#` after a space or tab) and the blanks before
    /// it; empty for a comment line.
    var content: UnsafeBufferPointer<UInt8> {
        guard let base = self.text.baseAddress else { return self.text }
        var from = 0
        while from < self.text.count,
            let found = memchr(base + from, Int32(UInt8.hash), self.text.count - from)
        {
            let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if index == 0 { return UnsafeBufferPointer(start: base, count: 0) }
            if self.text[index - 1].isBlank {
                var end = index - 1
                while end > 0, self.text[end - 1].isBlank { end -= 1 }
                return UnsafeBufferPointer(start: base, count: end)
            }
            from = index + 1
        }
        return self.text
    }
}

/// Splits a file's bytes into lines (`\n`, tolerating `\r\n`), skipping blank lines and a
/// UTF-8 byte order mark at the start. The bytes must outlive the scanner.
struct LineScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position: Int
    private var number = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        self.position = bytes.starts(with: bom) ? 3 : 0
    }

    /// The next non-blank line, or nil at the end.
    mutating func next() -> ListLine? {
        guard let base = self.bytes.baseAddress else { return nil }
        let count = self.bytes.count
        while self.position < count {
            self.number += 1
            var start = self.position
            var end: Int
            if let found = memchr(base + start, Int32(UInt8.newline), count - start) {
                end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                self.position = end + 1
            } else {
                end = count
                self.position = count
            }
            while start < end, base[start].isBlank { start += 1 }
            while end > start, base[end - 1].isBlank || base[end - 1] == .carriageReturn { end -= 1 }
            if start < end {
                return ListLine(number: self.number, text: UnsafeBufferPointer(start: base + start, count: end - start))
            }
        }
        return nil
    }
}

extension UInt8 {
    static let hash = UInt8(ascii: "#")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// A space or a tab.
    var isBlank: Bool { self == .space || self == .tab }
}
