/// xorshift64*, seeded: the robustness suites change the same bytes on every run, so a
/// failure names a case that can be run again.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { self.state = seed | 1 }

    public mutating func next() -> UInt64 {
        self.state ^= self.state >> 12
        self.state ^= self.state << 25
        self.state ^= self.state >> 27
        return self.state &* 0x2545_F491_4F6C_DD1D
    }
}

/// Small random changes to valid input, the kind a broken peer or a careless edit makes: a
/// byte replaced, inserted or dropped, a run repeated. Half the new bytes come from
/// `interesting` (the bytes the parser under test treats specially), half are any byte.
public struct ByteMutator: Sendable {
    public let interesting: [UInt8]

    public init(interesting: some StringProtocol, plus extra: [UInt8] = []) {
        self.interesting = Array(interesting.utf8) + extra
    }

    public func mutate(_ bytes: [UInt8], using random: inout SeededRandom) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &random)
            let byte =
                Bool.random(using: &random)
                ? self.interesting.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4: bytes[at] = byte
            case 4..<7: bytes.insert(byte, at: at)
            case 7..<9: bytes.remove(at: at)
            default:
                // A run repeated: more fields or entries, longer lines, a second message.
                let end = min(bytes.count, at + Int.random(in: 1...40, using: &random))
                bytes.insert(contentsOf: bytes[at..<end], at: end)
            }
        }
        return bytes
    }

    /// `text` changed, read back as a string (invalid UTF-8 becomes U+FFFD, as a reader would).
    public func mutate(_ text: String, using random: inout SeededRandom) -> String {
        String(decoding: self.mutate(Array(text.utf8), using: &random), as: UTF8.self)
    }

    /// `bytes` cut at one to five random places, as reads from a socket may deliver them.
    public static func pieces(_ bytes: [UInt8], using random: inout SeededRandom) -> [[UInt8]] {
        guard bytes.count > 1 else { return [bytes] }
        let cutCount = Int.random(in: 1...5, using: &random)
        let cuts = Set((0..<cutCount).map { _ in Int.random(in: 1..<bytes.count, using: &random) })
        var pieces: [[UInt8]] = []
        var start = 0
        for cut in cuts.sorted() {
            pieces.append(Array(bytes[start..<cut]))
            start = cut
        }
        pieces.append(Array(bytes[start...]))
        return pieces
    }
}
