/// Field names the proxy treats specially, recognised without allocating.
enum FieldName {
    case connection, proxyConnection, transferEncoding, upgrade, otherHopByHop
    case contentLength, host, maxForwards, contentType, via, xForwardedFor
    case none

    init(_ name: some BidirectionalCollection<UInt8>) {
        // Names read from a head, and `String`s, are contiguous bytes, compared a word at a
        // time; any other collection (none on the proxy's paths) is copied into one first.
        if let recognised = name.withContiguousStorageIfAvailable({ Self(words: FieldNameWords($0)) }) {
            self = recognised
        } else {
            self = Array(name).withUnsafeBufferPointer { Self(words: FieldNameWords($0)) }
        }
    }

    private init(words name: FieldNameWords) {
        typealias Known = FieldNameWords.Known
        switch name.count {
        case 2: self = name.matches(Known.te) ? .otherHopByHop : .none
        case 3: self = name.matches(Known.via) ? .via : .none
        case 4: self = name.matches(Known.host) ? .host : .none
        case 7:
            self = name.matches(Known.upgrade) ? .upgrade : (name.matches(Known.trailer) ? .otherHopByHop : .none)
        case 10:
            self =
                name.matches(Known.connection)
                ? .connection : (name.matches(Known.keepAlive) ? .otherHopByHop : .none)
        case 12:
            self =
                name.matches(Known.contentType)
                ? .contentType : (name.matches(Known.maxForwards) ? .maxForwards : .none)
        case 14: self = name.matches(Known.contentLength) ? .contentLength : .none
        case 15: self = name.matches(Known.xForwardedFor) ? .xForwardedFor : .none
        case 16: self = name.matches(Known.proxyConnection) ? .proxyConnection : .none
        case 17: self = name.matches(Known.transferEncoding) ? .transferEncoding : .none
        case 18: self = name.matches(Known.proxyAuthenticate) ? .otherHopByHop : .none
        case 19: self = name.matches(Known.proxyAuthorization) ? .otherHopByHop : .none
        default: self = .none
        }
    }

    var isHopByHop: Bool {
        switch self {
        case .connection, .proxyConnection, .transferEncoding, .upgrade, .otherHopByHop: return true
        case .contentLength, .host, .maxForwards, .contentType, .via, .xForwardedFor, .none: return false
        }
    }
}

/// A field name of up to 24 bytes as three 8-byte words, for comparing it with a known name
/// in three comparisons instead of a loop over its bytes. A name of up to 8 bytes fills the
/// first word; a longer one is read as whole words, the last ending at the name's end (it
/// overlaps the one before, the same way in both names compared).
///
/// A known name is kept lower-case, with a mask that has the case bit (0x20) at each letter:
/// a name's word, with the mask's bits set, equals the known word exactly when the name is
/// the known one in any case. Only `A` and `a` give `a` with 0x20 set, and a byte that is not
/// a letter in the known name (`-`) is compared as it is.
struct FieldNameWords {
    let count: Int
    private let first: UInt64
    private let second: UInt64
    private let third: UInt64

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        let count = bytes.count
        self.count = count
        guard let base = bytes.baseAddress, count <= 24 else {
            (self.first, self.second, self.third) = (0, 0, 0)
            return
        }
        let raw = UnsafeRawPointer(base)
        func word(at offset: Int) -> UInt64 {
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        if count <= 8 {
            var packed: UInt64 = 0
            for index in 0..<count { packed |= UInt64(base[index]) << (8 * UInt64(index)) }
            (self.first, self.second, self.third) = (packed, 0, 0)
        } else if count <= 16 {
            (self.first, self.second, self.third) = (word(at: 0), word(at: count - 8), 0)
        } else {
            (self.first, self.second, self.third) = (word(at: 0), word(at: 8), word(at: count - 8))
        }
    }

    /// Whether this name is `known`, in any case (its count is the caller's to check first).
    @inline(__always)
    func matches(_ known: Known) -> Bool {
        (self.first | known.caseBits.first) == known.lowercase.first
            && (self.second | known.caseBits.second) == known.lowercase.second
            && (self.third | known.caseBits.third) == known.lowercase.third
    }

    /// A name the proxy knows: its lower-case words and where its letters are.
    struct Known {
        let lowercase: FieldNameWords
        let caseBits: FieldNameWords

        init(_ name: StaticString) {
            let bytes = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
            precondition(bytes.allSatisfy { $0 == UInt8(ascii: "-") || (0x61...0x7A).contains($0) })
            self.lowercase = FieldNameWords(bytes)
            let bits = bytes.map { $0 == UInt8(ascii: "-") ? UInt8(0) : UInt8(0x20) }
            self.caseBits = bits.withUnsafeBufferPointer { FieldNameWords($0) }
        }

        static let te = Known("te")
        static let via = Known("via")
        static let host = Known("host")
        static let upgrade = Known("upgrade")
        static let trailer = Known("trailer")
        static let connection = Known("connection")
        static let keepAlive = Known("keep-alive")
        static let maxForwards = Known("max-forwards")
        static let contentType = Known("content-type")
        static let contentLength = Known("content-length")
        static let xForwardedFor = Known("x-forwarded-for")
        static let proxyConnection = Known("proxy-connection")
        static let transferEncoding = Known("transfer-encoding")
        static let proxyAuthenticate = Known("proxy-authenticate")
        static let proxyAuthorization = Known("proxy-authorization")
    }
}
