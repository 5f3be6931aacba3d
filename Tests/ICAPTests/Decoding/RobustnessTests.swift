import NIOCore
import NIOEmbedded
import Testing

@testable import ICAP

/// Captured streams with bytes changed at random: the decoders decode them or refuse them with an
/// ``ICAPParseError``; they never trap, and never wait without reason.
struct RobustnessTests {
    /// SplitMix64: a small seeded generator, so every run mutates the same way.
    private struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private static let interesting: [UInt8] = Array("\r\n :;=,0123456789abcdefABCDEF-\u{0}\u{7F}\u{FF}".utf8)

    private static func mutate(_ bytes: [UInt8], using random: inout SplitMix) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            guard !bytes.isEmpty else { break }
            let index = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: bytes[index] = Self.interesting.randomElement(using: &random)!
            case 1: bytes[index] = UInt8.random(in: 0...255, using: &random)
            case 2: bytes.remove(at: index)
            default: bytes.insert(Self.interesting.randomElement(using: &random)!, at: index)
            }
        }
        return bytes
    }

    @Test func mutatedRequestsDecodeOrFailWithAParseError() throws {
        var random = SplitMix(state: 3507)
        var refused = 0
        for round in 0..<1500 {
            let capture = Captured.all[round % Captured.all.count]
            let bytes = Self.mutate(Array(capture.clientBytes.utf8), using: &random)
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(ICAPRequestDecoder(maxHeaderBytes: 4096)))
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
        var random = SplitMix(state: 1344)
        var refused = 0
        for round in 0..<1500 {
            let capture = Captured.all[round % Captured.all.count]
            let bytes = Self.mutate(Array(capture.serverBytes.utf8), using: &random)
            let channel = responseDecoderChannel(expecting: capture.methods, maxHeaderBytes: 4096)
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
