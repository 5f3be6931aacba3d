import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

@testable import ICAP

/// The whole server pipeline (decoder, ``ICAPServerHandler``, encoder) on captured client
/// streams with bytes changed at random: it answers or closes, never traps, and gives the same
/// answers however the client's stream is cut into reads.
struct ServerRobustnessTests {
    /// Decides by the URL, so that every kind of answer is written: a page for `block`, a new
    /// head for `rewrite`, the message unchanged otherwise.
    struct Adapter: ICAPServerAdapter {
        var istag: String { "\"t1\"" }

        func adaptRequest(_ request: HTTPRequestHead, icap: ICAPRequestHead) -> ICAPAdaptation {
            if request.uri.contains("block") {
                return .respond(HTTPResponseHead(version: .http1_1, status: .forbidden), body: ByteBuffer(string: "no"))
            }
            if request.uri.contains("rewrite") {
                var head = request
                head.headers.replaceOrAdd(name: "X-Rewritten", value: "1")
                return .modifiedRequest(head)
            }
            return .unchanged
        }

        func adaptResponse(
            _ response: HTTPResponseHead, request: HTTPRequestHead?, icap: ICAPRequestHead
        ) -> ICAPAdaptation {
            request?.uri.contains("block") == true
                ? .respond(HTTPResponseHead(version: .http1_1, status: .forbidden), body: ByteBuffer(string: "no"))
                : .unchanged
        }
    }

    static let mutator = ByteMutator(interesting: "\r\n :;=,0123456789abcdefABCDEF-", plus: [0, 0x7F, 0xFF])

    /// The captured client streams, sent to this server's services (`/reqmod`, `/respmod`)
    /// instead of c-icap's `/echo`.
    static let seeds: [String] = Captured.all.map { capture in
        capture.clientBytes.components(separatedBy: "\r\n").map { line in
            if line.hasPrefix("RESPMOD ") { return line.replacingOccurrences(of: "/echo", with: "/respmod") }
            if line.hasPrefix("REQMOD ") || line.hasPrefix("OPTIONS ") {
                return line.replacingOccurrences(of: "/echo", with: "/reqmod")
            }
            return line
        }.joined(separator: "\r\n")
    }

    /// Feeds `pieces` to a server as reads; returns the status line of every answer it wrote
    /// (bodies are framed by how the reads came, so they are not compared) and whether it closed.
    static func serve(_ pieces: [[UInt8]]) throws -> [String] {
        let channel = try serverChannel(maxHeaderBytes: 4096)
        defer { channel.tearDown() }
        try channel.pipeline.syncOperations.addHandler(ICAPServerHandler(adapter: Adapter()))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1344)).wait()
        var written: [UInt8] = []
        for piece in pieces where channel.isActive {
            try channel.writeInbound(ByteBuffer(bytes: piece))
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written += buffer.readableBytesView }
        }
        let closed = !channel.isActive
        let statusLines = String(decoding: written, as: UTF8.self).components(separatedBy: "\r\n")
            .filter { $0.hasPrefix("ICAP/1.0 ") }
        return statusLines + [closed ? "closed" : "open"]
    }

    /// A request answered, then bytes that cannot start one, in the same read: the answer, then
    /// one 400 and the close, whatever else the client sends. (The 400 was once written through
    /// the decoder that had failed: NIO's assertion trapped in debug builds.)
    @Test func anUnreadableRequestAfterAnAnsweredOneGetsOne400AndTheClose() throws {
        let options = Array(Self.seeds[0].utf8)
        let answers = try Self.serve([options + Array("GARBAGE\r\n\r\n".utf8), Array("MORE\r\n\r\n".utf8)])
        #expect(answers == ["ICAP/1.0 200 OK", "ICAP/1.0 400 Bad Request", "closed"])
    }

    @Test func mutatedStreamsAreAnsweredTheSameHoweverTheReadsSplitThem() throws {
        var random = SeededRandom(seed: 0x1CA9)
        var answered = 0
        for (index, text) in Self.seeds.enumerated() {
            let original = Array(text.utf8)
            for mutation in 0...150 {
                let bytes = mutation == 0 ? original : Self.mutator.mutate(original, using: &random)
                let whole = try Self.serve([bytes])
                let split = ByteMutator.pieces(bytes, using: &random)
                #expect(
                    try Self.serve(split) == whole,
                    "\(Captured.all[index].name) mutation \(mutation), cut at \(split.map(\.count))")
                if whole.contains(where: { $0.hasPrefix("ICAP/1.0 2") }) { answered += 1 }
            }
        }
        // Most streams still carry a request the server can answer.
        #expect(answered > Self.seeds.count * 20)
    }
}
