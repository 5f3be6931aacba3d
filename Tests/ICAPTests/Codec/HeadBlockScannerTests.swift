import NIOCore
import Testing

@testable import ICAP

struct HeadBlockScannerTests {
    private let block = "OPTIONS icap://h/s ICAP/1.0\r\nHost: h\r\n\r\n"

    @Test func findsTheEndHoweverTheBytesArrive() throws {
        for split in 0...self.block.utf8.count {
            var scanner = HeadBlockScanner()
            var buffer = ByteBuffer(string: String(self.block.utf8.prefix(split))!)
            let first = try scanner.scan(buffer, limit: 100)
            if split == self.block.utf8.count {
                #expect(first == split)
                continue
            }
            #expect(first == nil, "split at \(split)")
            buffer.writeString(String(self.block.utf8.dropFirst(split))! + "REQMOD")
            #expect(try scanner.scan(buffer, limit: 100) == self.block.utf8.count, "split at \(split)")
        }
    }

    @Test func aBareLineFeedIsReportedWhereItIs() {
        var scanner = HeadBlockScanner()
        #expect(throws: ICAPParseError.bareLineFeed(offset: 27)) {
            try scanner.scan(ByteBuffer(string: "OPTIONS icap://h/s ICAP/1.0\nHost: h\n\n"), limit: 100)
        }
        var second = HeadBlockScanner()
        #expect(throws: ICAPParseError.bareLineFeed(offset: 0)) {
            try second.scan(ByteBuffer(string: "\n"), limit: 100)
        }
    }

    @Test func aBlockPastTheLimitIsRefusedBeforeItEnds() throws {
        var scanner = HeadBlockScanner()
        #expect(throws: ICAPParseError.headerTooLarge(limit: 16)) {
            try scanner.scan(ByteBuffer(string: "OPTIONS icap://h/s ICAP/1.0\r\n"), limit: 16)
        }
        var exact = HeadBlockScanner()
        #expect(try exact.scan(ByteBuffer(string: "A\r\n\r\n"), limit: 5) == 5)
    }
}
