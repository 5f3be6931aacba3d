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

    @inline(__always)
    fileprivate init(count: Int, _ first: UInt64, _ second: UInt64, _ third: UInt64) {
        (self.count, self.first, self.second, self.third) = (count, first, second, third)
    }

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
    ///
    /// The words are written out as constants, laid out as `init(_:)` reads a name (its bytes
    /// little-endian, eight to a word): a computed property of literals folds into the
    /// comparison, where a `static let` computed from the name at run time was a lazily
    /// initialised global, checked (`swift_once`) on every comparison of every field name.
    /// `FieldNameTests` pins every constant, each name in any case and every byte changed.
    struct Known {
        let lowercase: FieldNameWords
        let caseBits: FieldNameWords

        @inline(__always)
        private init(
            _ count: Int, _ first: UInt64, _ second: UInt64, _ third: UInt64,
            caseBits: UInt64, _ secondBits: UInt64, _ thirdBits: UInt64
        ) {
            self.lowercase = FieldNameWords(count: count, first, second, third)
            self.caseBits = FieldNameWords(count: count, caseBits, secondBits, thirdBits)
        }

        static var te: Known {
            Known(2, 0x6574, 0, 0, caseBits: 0x2020, 0, 0)
        }
        static var via: Known {
            Known(3, 0x616976, 0, 0, caseBits: 0x202020, 0, 0)
        }
        static var host: Known {
            Known(4, 0x74736F68, 0, 0, caseBits: 0x20202020, 0, 0)
        }
        static var upgrade: Known {
            Known(7, 0x0065646172677075, 0, 0, caseBits: 0x0020202020202020, 0, 0)
        }
        static var trailer: Known {
            Known(7, 0x0072656C69617274, 0, 0, caseBits: 0x0020202020202020, 0, 0)
        }
        static var connection: Known {
            Known(10, 0x697463656E6E6F63, 0x6E6F697463656E6E, 0, caseBits: 0x2020202020202020, 0x2020202020202020, 0)
        }
        static var keepAlive: Known {
            Known(10, 0x696C612D7065656B, 0x6576696C612D7065, 0, caseBits: 0x2020200020202020, 0x2020202020002020, 0)
        }
        static var maxForwards: Known {
            Known(12, 0x77726F662D78616D, 0x7364726177726F66, 0, caseBits: 0x2020202000202020, 0x2020202020202020, 0)
        }
        static var contentType: Known {
            Known(12, 0x2D746E65746E6F63, 0x657079742D746E65, 0, caseBits: 0x0020202020202020, 0x2020202000202020, 0)
        }
        static var contentLength: Known {
            Known(14, 0x2D746E65746E6F63, 0x6874676E656C2D74, 0, caseBits: 0x0020202020202020, 0x2020202020200020, 0)
        }
        static var xForwardedFor: Known {
            Known(15, 0x726177726F662D78, 0x726F662D64656472, 0, caseBits: 0x2020202020200020, 0x2020200020202020, 0)
        }
        static var proxyConnection: Known {
            Known(16, 0x6F632D79786F7270, 0x6E6F697463656E6E, 0, caseBits: 0x2020002020202020, 0x2020202020202020, 0)
        }
        static var transferEncoding: Known {
            Known(
                17, 0x726566736E617274, 0x6E69646F636E652D, 0x676E69646F636E65, caseBits: 0x2020202020202020,
                0x2020202020202000, 0x2020202020202020)
        }
        static var proxyAuthenticate: Known {
            Known(
                18, 0x75612D79786F7270, 0x616369746E656874, 0x6574616369746E65, caseBits: 0x2020002020202020,
                0x2020202020202020, 0x2020202020202020)
        }
        static var proxyAuthorization: Known {
            Known(
                19, 0x75612D79786F7270, 0x74617A69726F6874, 0x6E6F6974617A6972, caseBits: 0x2020002020202020,
                0x2020202020202020, 0x2020202020202020)
        }
    }
}
