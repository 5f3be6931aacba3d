import NIOCore
import NIOHTTP1
import Policy
import TestSupport
import Testing

@testable import Proxy

/// Requests and responses with bytes changed at random, fed whole, in random pieces and one byte
/// at a time, through the parsers and what comes after them (the planner, the serializers). They
/// read a stream or refuse it with their error; they never trap, never spin without making
/// progress, and never read a stream differently because of where the socket reads split it. And
/// whatever the client or the origin sent, what the proxy writes on is one well-formed head.
struct HTTPRobustnessTests {
    static let requestSeeds: [String] = [
        "GET http://e.com/a?b=c HTTP/1.1\r\nHost: e.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n",
        "POST http://e.com/form HTTP/1.1\r\nHost: e.com\r\nContent-Length: 11\r\n\r\nhello world"
            + "GET http://e.com/next HTTP/1.1\r\nHost: e.com\r\n\r\n",
        "PUT http://e.com/up HTTP/1.1\r\nHost: e.com\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;ext=1\r\nhello\r\nB\r\n world, too\r\n0\r\nX-Trailer: t\r\n\r\n",
        "CONNECT e.com:443 HTTP/1.1\r\nHost: e.com:443\r\nProxy-Connection: keep-alive\r\n\r\n\u{16}\u{3}\u{1}tls",
        "GET http://[::1]:8080/x HTTP/1.0\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nVia: 1.0 other\r\n"
            + "X-Forwarded-For: 10.0.0.1\r\n\r\n",
        "GET http://e.com/ws HTTP/1.1\r\nHost: e.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n\r\nframe",
        "OPTIONS http://e.com/ HTTP/1.1\r\nMax-Forwards: 3\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
        "GET http://www.e.com/page.html HTTP/1.1\r\nHost: www.e.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux)\r\n"
            + "Accept: text/html,application/xhtml+xml;q=0.9\r\nAccept-Language: fr-FR,fr;q=0.8\r\n"
            + "Accept-Encoding: gzip, deflate\r\nCookie: a=1; b=\u{E9}t\u{E9}\r\nReferer: http://e.com/\r\n"
            + "Cache-Control: max-age=0\r\n\r\n",
    ]

    static let responseSeeds: [String] = [
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nETag: \"1\"\r\n\r\n4;x=y\r\nabcd\r\n0\r\nX-T: 1\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nETag: \"1\"\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
            + "Keep-Alive: timeout=5\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>until the origin closes",
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nframe",
        "HTTP/1.1 404 Not Found\nContent-Length: 3\nX-A:  b \nVia: 1.0 cache\n\nnot",
        "HTTP/1.1 302 Found\r\nLocation: http://e.com/\u{E9}\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
            + "Content-Length: 0\r\n\r\n",
    ]

    /// The bytes the parsers treat specially come more often than the rest.
    static let mutator = ByteMutator(
        interesting: "\r\n\t :;,=/[]0123456789aAfFxX-\u{0}\u{7F}", plus: [0x80, 0xE9, 0xFF])

    static func printable<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var text = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "\\x" + String(byte, radix: 16)
            }
        }
        return text
    }

    /// What a parser made of a stream, line by line: heads as the test renders them, each body
    /// whole (however many events brought it), each end, then how reading stopped.
    struct Transcript {
        private(set) var lines: [String] = []
        private var body: [UInt8] = []

        mutating func append(_ line: String) { self.lines.append(line) }
        mutating func appendBody(_ bytes: ByteBuffer) { self.body += bytes.readableBytesView }

        mutating func end() {
            self.lines.append("body \(HTTPRobustnessTests.printable(self.body))")
            self.lines.append("end")
            self.body = []
        }

        /// The lines, with the body of a message still open and the error or the bytes left.
        func finished(error: String?, left: [UInt8]) -> [String] {
            var lines = self.lines
            if !self.body.isEmpty { lines.append("body so far \(HTTPRobustnessTests.printable(self.body))") }
            lines.append(error.map { "error: \($0)" } ?? "left \(HTTPRobustnessTests.printable(left))")
            return lines
        }
    }

    /// Feeds `pieces` to `next` in order, as reads from a socket pile up, and calls `event` for
    /// each event. Returns the error description if reading stopped on one, and what was left.
    /// Records an issue if the parser returns events without taking bytes for too long.
    static func feed<Event, Failure: Error>(
        _ pieces: [[UInt8]], label: String,
        next: (inout ByteBuffer) throws(Failure) -> Event?, event: (Event) -> Void
    ) -> (error: String?, left: [UInt8]) {
        var pending = ByteBuffer()
        let total = pieces.reduce(0) { $0 + $1.count }
        var events = 0
        for piece in pieces {
            pending.writeBytes(piece)
            do {
                while let next = try next(&pending) {
                    event(next)
                    events += 1
                    if events > 2 * total + 8 {
                        Issue.record("\(label): \(events) events from \(total) bytes: no progress")
                        return ("no progress", [])
                    }
                }
            } catch {
                return ("\(error)", [])
            }
            pending.discardReadBytes()
        }
        return (nil, pending.readableBytesView.map { $0 })
    }

    /// How a client's bytes are read: each request's head, what the planner makes of it and
    /// the head the origin would get; the body; the end; then the error, or what was left.
    static func readRequests(_ pieces: [[UInt8]], label: String) -> [String] {
        var parser = ClientRequestParser(maxHeadBytes: 1024)
        let planner = RequestPlanner(configuration: ProxyConfiguration())
        var transcript = Transcript()
        let (error, left) = Self.feed(pieces, label: label, next: { try parser.next(&$0) }) { event in
            switch event {
            case .head(let head):
                var line = "\(head.method.rawValue) \(Self.printable(head.uri.utf8)) \(head.version)"
                head.forEachField { name, value in line += " [\(Self.printable(name))=\(Self.printable(value))]" }
                transcript.append(line)
                transcript.append(Self.plan(head, with: planner, label: label))
            case .body(let bytes):
                transcript.appendBody(bytes)
            case .end:
                transcript.end()
            }
        }
        return transcript.finished(error: error, left: left)
    }

    /// What the planner decided, and for a forwarded request the exact head the origin gets,
    /// which must read back as one request head of exactly its own length.
    static func plan(_ head: ClientRequestHead, with planner: RequestPlanner, label: String) -> String {
        switch planner.plan(head, clientIP: "192.0.2.1") {
        case .forward(let plan):
            var wire = ByteBuffer()
            OriginRequestSerializer.head(plan, into: &wire)
            Self.expectOneHead(wire, label: label) { buffer in
                var parser = ClientRequestParser(maxHeadBytes: 64 * 1024)
                guard case .head = try? parser.next(&buffer) else { return false }
                return true
            }
            return "forward: " + Self.printable(wire.readableBytesView)
        case .tunnel(let target):
            return "tunnel \(Self.printable(target.host.utf8)) \(target.port)"
        case .reject(let page, let reason, _):
            return "reject \(page.status.code): \(reason)"
        case .answer(let head, let body):
            return "answer \(head.status.code) \(body.readableBytes)"
        }
    }

    /// `wire` must be one head, whole: `readHead` takes a head from the front of the buffer it
    /// is given, and nothing may be left after it. Its lines end in CRLF, with no bare CR, LF
    /// or NUL (those end a line for some peers and not for others).
    static func expectOneHead(_ wire: ByteBuffer, label: String, readHead: (inout ByteBuffer) -> Bool) {
        var buffer = wire
        let view = wire.readableBytesView
        #expect(
            readHead(&buffer) && buffer.readableBytes == 0,
            "\(label): what the proxy writes on is not exactly one head: \(Self.printable(view))")
        let bytes = Array(view)
        let stray = bytes.indices.contains { index in
            switch bytes[index] {
            case 0: return true
            case 0x0A: return index == 0 || bytes[index - 1] != 0x0D
            case 0x0D: return index + 1 == bytes.count || bytes[index + 1] != 0x0A
            default: return false
            }
        }
        #expect(!stray, "\(label): a bare CR, LF or NUL in the head written on: \(Self.printable(view))")
    }

    /// How an origin's bytes are read: each head and the head the client would get, the body,
    /// the end; then the error, or what was left.
    static func readResponses(_ pieces: [[UInt8]], label: String) -> [String] {
        var parser = OriginResponseParser(maxHeadBytes: 1024)
        parser.expectResponse(requestWasHEAD: false)
        var transcript = Transcript()
        let (error, left) = Self.feed(pieces, label: label, next: { try parser.next(&$0) }) { event in
            switch event {
            case .head(let head), .informational(let head):
                var line = "head \(head.status) 1.\(head.minorVersion)"
                head.forEachField { name, value in line += " [\(Self.printable(name))=\(Self.printable(value))]" }
                transcript.append(line)
                let plan = ResponsePlanner.plan(head, for: .fixture(), via: ViaEntries(name: "portcullis"))
                let wire = ResponseSerializer.encode(plan, allocator: ByteBufferAllocator())
                Self.expectOneHead(wire, label: label) { buffer in
                    var parser = OriginResponseParser(maxHeadBytes: 64 * 1024)
                    parser.expectResponse(requestWasHEAD: false)
                    switch try? parser.next(&buffer) {
                    case .head, .informational: return true
                    default: return false
                    }
                }
                transcript.append("to the client: " + Self.printable(wire.readableBytesView))
            case .body(let bytes):
                transcript.appendBody(bytes)
            case .end:
                transcript.end()
                // The next request went out: its response may follow.
                parser.expectResponse(requestWasHEAD: false)
            }
        }
        return transcript.finished(error: error, left: left)
    }

    static func check(
        seeds: [String], mutationsPerSeed: Int, seed: UInt64, read: ([[UInt8]], String) -> [String]
    ) {
        var random = SeededRandom(seed: seed)
        for (seedIndex, text) in seeds.enumerated() {
            let original = Array(text.utf8)
            for mutation in 0...mutationsPerSeed {
                // Case 0 is the seed itself: the unchanged stream must read the same way too.
                let bytes = mutation == 0 ? original : Self.mutator.mutate(original, using: &random)
                let label = "seed \(seedIndex) mutation \(mutation)"
                let whole = read([bytes], label)
                let split = ByteMutator.pieces(bytes, using: &random)
                #expect(read(split, label) == whole, "\(label), cut at \(split.map(\.count))")
                if mutation % 8 == 0 {
                    #expect(read(bytes.map { [$0] }, label) == whole, "\(label), byte by byte")
                }
            }
        }
    }

    @Test func mutatedRequestsAreReadTheSameHoweverTheReadsSplitThem() {
        Self.check(seeds: Self.requestSeeds, mutationsPerSeed: 400, seed: 0x5EED_0001, read: Self.readRequests)
    }

    @Test func mutatedResponsesAreReadTheSameHoweverTheReadsSplitThem() {
        Self.check(seeds: Self.responseSeeds, mutationsPerSeed: 400, seed: 0x5EED_0002, read: Self.readResponses)
    }

    /// The unchanged seeds are read as what they are (so the mutated cases start from streams
    /// the parsers accept, not from errors).
    @Test func theSeedsThemselvesAreReadWithoutError() {
        for text in Self.requestSeeds {
            let events = Self.readRequests([Array(text.utf8)], label: text)
            #expect(!events.last!.hasPrefix("error") && !events.contains { $0.hasPrefix("reject") }, "\(events)")
        }
        for text in Self.responseSeeds {
            let events = Self.readResponses([Array(text.utf8)], label: text)
            #expect(!events.last!.hasPrefix("error"), "\(events)")
        }
    }

    /// Targets with bytes changed: parsed or refused with a `RequestTargetError`.
    @Test func mutatedTargetsParseOrAreRefused() {
        var random = SeededRandom(seed: 0x5EED_0003)
        let seeds = ["http://e.com:8080/p?q=1#f", "http://[2001:db8::1]:81/", "ws://user:pw@e.com/", "http://e.com"]
        for text in seeds {
            for _ in 0..<500 {
                let uri = Self.mutator.mutate(text, using: &random)
                if let target = try? RequestTarget(absoluteForm: uri) {
                    Self.expectUsableHost(target, from: uri)
                    #expect(target.originForm.first == "/", "\(uri) -> \(target.originForm)")
                }
                let authority = Self.mutator.mutate("e.com:443", using: &random)
                if let target = try? RequestTarget(authorityForm: authority) {
                    Self.expectUsableHost(target, from: authority)
                }
            }
        }
    }

    /// A target that parses names a host that can go into a `Host` line and to the resolver as
    /// it is: no spaces, controls, commas or non-ASCII bytes, a port that exists, and a colon
    /// only inside brackets, around an IPv6 address.
    static func expectUsableHost(_ target: RequestTarget, from text: String) {
        let header = target.hostHeader
        #expect(!target.host.isEmpty && (1...65535).contains(target.port), "\(text)")
        #expect(!header.utf8.contains { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: ",") }, "\(text) -> \(header)")
        #expect(header.hasPrefix("[") || !target.host.contains(":"), "\(text) -> \(target.host)")
        #expect(!header.hasPrefix("[") || IPAddress128(parsing: target.host) != nil, "\(text) -> \(target.host)")
    }
}
