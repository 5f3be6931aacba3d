import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import ICAP

/// Captured streams with bytes changed at random: the decoders decode them or refuse them with an
/// ``ICAPParseError``; they never trap, and never wait without reason.
struct RobustnessTests {
    private static let mutator = ByteMutator(interesting: "\r\n :;=,0123456789abcdefABCDEF-\u{0}\u{7F}", plus: [0xFF])

    @Test func mutatedRequestsDecodeOrFailWithAParseError() throws {
        var random = SeededRandom(seed: 3507)
        var refused = 0
        for round in 0..<1500 {
            let capture = Captured.all[round % Captured.all.count]
            let bytes = Self.mutator.mutate(Array(capture.clientBytes.utf8), using: &random)
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(ICAPRequestDecoder(maxHeaderBytes: 4096)))
            defer { channel.tearDown() }
            try channel.pipeline.syncOperations.addHandler(ScriptedAnswerer(capture.statusCodes))
            do {
                try channel.writeInbound(ByteBuffer(bytes: bytes))
                while try channel.readInbound(as: ICAPRequestPart.self) != nil {}
                _ = try channel.finish()
            } catch is ICAPParseError {
                refused += 1
            }
        }
        #expect(refused > 500)
    }

    @Test func mutatedResponsesDecodeOrFailWithAParseError() throws {
        var random = SeededRandom(seed: 1344)
        var refused = 0
        for round in 0..<1500 {
            let capture = Captured.all[round % Captured.all.count]
            let bytes = Self.mutator.mutate(Array(capture.serverBytes.utf8), using: &random)
            let channel = responseDecoderChannel(expecting: capture.methods, maxHeaderBytes: 4096)
            defer { channel.tearDown() }
            do {
                try channel.writeInbound(ByteBuffer(bytes: bytes))
                while try channel.readInbound(as: ICAPResponsePart.self) != nil {}
                _ = try channel.finish()
            } catch is ICAPParseError {
                refused += 1
            }
        }
        #expect(refused > 500)
    }
}
