import NIOCore
import Testing

@testable import ICAP

/// Heads cut at the `Encapsulated` offsets, checked against the bytes as they arrive.
struct EncapsulatedHeadsReaderTests {
    private static let request = "GET / HTTP/1.1\r\nHost: e\r\n\r\n"  // 27 bytes
    private static let response = "HTTP/1.1 200 OK\r\n\r\n"  // 19 bytes

    @Test(arguments: Feed.allCases)
    func headsAreCutExactlyAtTheOffsets(feed: Feed) throws {
        let encapsulated = try Encapsulated(parsing: "req-hdr=0, res-hdr=27, res-body=46")
        var reader = EncapsulatedHeadsReader(encapsulated)
        var buffer = ByteBuffer()
        var heads: ICAPEncapsulatedHeads?
        let wire = Array((Self.request + Self.response + "5\r\n").utf8)
        let reads = feed == .whole ? [wire] : wire.map { [$0] }
        var readsBeforeHeads = 0
        for read in reads {
            buffer.writeBytes(read)
            if heads == nil {
                heads = try reader.read(&buffer)
                readsBeforeHeads += 1
            }
        }
        #expect(readsBeforeHeads == (feed == .whole ? 1 : 46))
        #expect(heads?.requestHeadBytes == ByteBuffer(string: Self.request))
        #expect(heads?.responseHeadBytes == ByteBuffer(string: Self.response))
        #expect(heads?.request?.headers["Host"] == ["e"])
        #expect(heads?.response?.status == .ok)
        #expect(String(buffer: buffer) == "5\r\n")
    }

    @Test func aHeadThatEndsBeforeItsOffsetFailsAsSoonAsItEnds() throws {
        // Offsets beyond the data: the peer would wait for an answer while we waited for bytes.
        var reader = EncapsulatedHeadsReader(try Encapsulated(parsing: "req-hdr=0, null-body=500"))
        var buffer = ByteBuffer(string: Self.request)
        #expect(
            throws: ICAPParseError.headOffsetMismatch(
                "req-hdr", "ends with its empty line at offset 27, but Encapsulated puts the next section at 500")
        ) { try reader.read(&buffer) }
    }

    @Test func aHeadThatDoesNotEndAtItsOffsetFails() throws {
        var reader = EncapsulatedHeadsReader(try Encapsulated(parsing: "req-hdr=0, res-hdr=20, res-body=46"))
        var buffer = ByteBuffer(string: Self.request + Self.response)
        #expect(
            throws: ICAPParseError.headOffsetMismatch(
                "req-hdr", "(offsets 0..<20) does not end with CRLF CRLF at offset 20, where the next section starts")
        ) { try reader.read(&buffer) }
    }

    @Test func aMalformedHeadAtTheRightOffsetIsABadHTTPHead() throws {
        var reader = EncapsulatedHeadsReader(try Encapsulated(parsing: "res-hdr=0, null-body=19"))
        var buffer = ByteBuffer(string: "HTTP/1.1 2xx OK\r\n\r\n")
        #expect(throws: ICAPParseError.badHTTPHead("res-hdr", offset: 0, "status line \"HTTP/1.1 2xx OK\"")) {
            try reader.read(&buffer)
        }
    }

    @Test func noHeadsNeedNoBytes() throws {
        var reader = EncapsulatedHeadsReader(.nullBody)
        var buffer = ByteBuffer()
        #expect(try reader.read(&buffer) == ICAPEncapsulatedHeads.none)
    }
}
