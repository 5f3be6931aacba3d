/// Punycode (RFC 3492): the Bootstring encoding of Unicode labels as letters, digits and `-`.
///
/// `encode` and `decode` work on one label without the `xn--` prefix: `encode("bücher")` is
/// `bcher-kva`. Basic (ASCII) code points are copied as they are, so callers that want a
/// canonical form lowercase first (``HostName/normalized(_:)`` does). Both directions check
/// every step for overflow: malformed input is an error, never a crash.
public enum Punycode {
    private static let base: UInt32 = 36
    private static let tMin: UInt32 = 1
    private static let tMax: UInt32 = 26
    private static let skew: UInt32 = 38
    private static let damp: UInt32 = 700
    private static let initialBias: UInt32 = 72
    private static let initialN: UInt32 = 0x80
    private static let delimiter: UInt8 = UInt8(ascii: "-")

    /// Encodes one label (RFC 3492 section 6.3).
    public static func encode(_ label: some StringProtocol) throws(PunycodeError) -> String {
        let input = label.unicodeScalars.map(\.value)
        var output: [UInt8] = []
        output.reserveCapacity(input.count + 8)
        for value in input where value < Self.initialN { output.append(UInt8(value)) }
        let basicCount = UInt32(output.count)
        if basicCount > 0 { output.append(Self.delimiter) }

        var n = Self.initialN
        var delta: UInt32 = 0
        var bias = Self.initialBias
        var handled = basicCount
        while handled < input.count {
            // The smallest code point not handled yet; one exists because handled < count.
            var next = UInt32.max
            for value in input where value >= n && value < next { next = value }
            delta = try Self.add(delta, try Self.multiply(next - n, handled + 1))
            n = next
            for value in input {
                if value < n { delta = try Self.add(delta, 1) }
                guard value == n else { continue }
                var q = delta
                var k = Self.base
                while true {
                    let t = Self.threshold(k, bias)
                    if q < t { break }
                    output.append(Self.digit(t + (q - t) % (Self.base - t)))
                    q = (q - t) / (Self.base - t)
                    k += Self.base
                }
                output.append(Self.digit(q))
                bias = Self.adapt(delta, handled + 1, firstTime: handled == basicCount)
                delta = 0
                handled += 1
            }
            delta = try Self.add(delta, 1)
            n = try Self.add(n, 1)
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes one label (RFC 3492 section 6.2). Digits are accepted in either case.
    public static func decode(_ encoded: some StringProtocol) throws(PunycodeError) -> String {
        let input = Array(encoded.utf8)
        var output: [UInt32] = []
        var start = 0
        if let last = input.lastIndex(of: Self.delimiter), last > 0 {
            for byte in input[..<last] {
                guard byte < 0x80 else { throw .invalidCharacter }
                output.append(UInt32(byte))
            }
            start = last + 1
        }

        var n = Self.initialN
        var i: UInt32 = 0
        var bias = Self.initialBias
        var position = start
        while position < input.count {
            let oldI = i
            var weight: UInt32 = 1
            var k = Self.base
            while true {
                guard position < input.count else { throw .truncated }
                guard let digit = Self.digitValue(input[position]) else { throw .invalidCharacter }
                position += 1
                i = try Self.add(i, try Self.multiply(digit, weight))
                let t = Self.threshold(k, bias)
                if digit < t { break }
                weight = try Self.multiply(weight, Self.base - t)
                k = try Self.add(k, Self.base)
            }
            let length = UInt32(output.count) + 1
            bias = Self.adapt(i - oldI, length, firstTime: oldI == 0)
            n = try Self.add(n, i / length)
            i %= length
            guard n >= Self.initialN, Unicode.Scalar(n) != nil else { throw .invalidCodePoint }
            output.insert(n, at: Int(i))
            i += 1
        }
        var text = String.UnicodeScalarView()
        for value in output {
            // Every value was checked above (basic ones are ASCII).
            guard let scalar = Unicode.Scalar(value) else { throw .invalidCodePoint }
            text.append(scalar)
        }
        return String(text)
    }

    private static func threshold(_ k: UInt32, _ bias: UInt32) -> UInt32 {
        if k <= bias { return Self.tMin }
        if k >= bias + Self.tMax { return Self.tMax }
        return k - bias
    }

    private static func adapt(_ delta: UInt32, _ count: UInt32, firstTime: Bool) -> UInt32 {
        var delta = firstTime ? delta / Self.damp : delta / 2
        delta += delta / count
        var k: UInt32 = 0
        while delta > ((Self.base - Self.tMin) * Self.tMax) / 2 {
            delta /= Self.base - Self.tMin
            k += Self.base
        }
        return k + ((Self.base - Self.tMin + 1) * delta) / (delta + Self.skew)
    }

    /// `a`…`z` for 0…25, `0`…`9` for 26…35.
    private static func digit(_ value: UInt32) -> UInt8 {
        value < 26 ? UInt8(ascii: "a") + UInt8(value) : UInt8(ascii: "0") + UInt8(value - 26)
    }

    private static func digitValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(byte - UInt8(ascii: "a"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(byte - UInt8(ascii: "A"))
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0")) + 26
        default: return nil
        }
    }

    private static func add(_ a: UInt32, _ b: UInt32) throws(PunycodeError) -> UInt32 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { throw .overflow }
        return sum
    }

    private static func multiply(_ a: UInt32, _ b: UInt32) throws(PunycodeError) -> UInt32 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        if overflow { throw .overflow }
        return product
    }
}
