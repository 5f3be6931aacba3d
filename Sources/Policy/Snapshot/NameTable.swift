/// An immutable hash table from byte strings (host names) to small records, laid out for
/// millions of entries in little memory and one or two cache misses per lookup.
///
/// All records live in one byte arena, grouped by bucket; a directory of `UInt32` offsets gives
/// where each bucket starts (the next bucket's offset is where it ends). A record is
/// `[key length: 1][tag: 2][payload length: 2][key][payload]`. There are about half as many
/// buckets as records, so a bucket holds two records on average; keys are compared byte for
/// byte, so a lookup is exact (a hash collision only costs a comparison).
///
/// With ~21-byte names this is ~29 bytes per entry, all in two arrays.
struct NameTable: Sendable {
    private let directory: [UInt32]
    private let arena: [UInt8]
    private let shift: UInt64
    let count: Int
    /// Whether some key has no dot (`com`): if not, a host's last label need not be looked up.
    let hasSingleLabelKeys: Bool

    static let empty = NameTable(directory: [0, 0], arena: [], shift: 63, count: 0, hasSingleLabelKeys: false)

    private init(directory: [UInt32], arena: [UInt8], shift: UInt64, count: Int, hasSingleLabelKeys: Bool) {
        self.directory = directory
        self.arena = arena
        self.shift = shift
        self.count = count
        self.hasSingleLabelKeys = hasSingleLabelKeys
    }

    /// Reads where `hash`'s bucket starts, and the first byte there: issued for several keys
    /// before any is searched, the cache misses of all of them overlap instead of queueing.
    @inline(__always)
    func prefetch(hash: UInt64) -> UInt32 {
        guard self.count > 0 else { return 0 }
        let bucket = Int(truncatingIfNeeded: hash >> self.shift)
        return self.directory.withUnsafeBufferPointer { directory in
            let start = directory[bucket]
            guard start < directory[bucket + 1] else { return start }
            return start ^ UInt32(self.arena.withUnsafeBufferPointer { $0[Int(start)] })
        }
    }

    var memoryBytes: Int { self.directory.capacity * 4 + self.arena.capacity }

    /// Calls `body` with the tag and payload of every record whose key is `key`, until it
    /// returns `false`.
    @inline(__always)
    func forEach(key: UnsafeRawBufferPointer, _ body: (UInt16, UnsafeRawBufferPointer) -> Bool) {
        self.forEach(key: key, hash: Self.hash(key), body)
    }

    /// The same, with the key's hash already known.
    @inline(__always)
    func forEach(key: UnsafeRawBufferPointer, hash: UInt64, _ body: (UInt16, UnsafeRawBufferPointer) -> Bool) {
        guard self.count > 0 else { return }
        let bucket = Int(truncatingIfNeeded: hash >> self.shift)
        self.directory.withUnsafeBufferPointer { directory in
            var offset = Int(directory[bucket])
            let end = Int(directory[bucket + 1])
            self.arena.withUnsafeBytes { arena in
                while offset < end {
                    let keyLength = Int(arena[offset])
                    let tag = UInt16(arena[offset + 1]) | UInt16(arena[offset + 2]) << 8
                    let payloadLength = Int(arena[offset + 3]) | Int(arena[offset + 4]) << 8
                    let keyStart = offset + 5
                    if keyLength == key.count,
                        keyLength == 0 || memcmp(arena.baseAddress! + keyStart, key.baseAddress!, keyLength) == 0
                    {
                        let payload = UnsafeRawBufferPointer(
                            rebasing: arena[(keyStart + keyLength)..<(keyStart + keyLength + payloadLength)])
                        if !body(tag, payload) { return }
                    }
                    offset = keyStart + keyLength + payloadLength
                }
            }
        }
    }

    /// FNV-1a, then a multiplicative mix so the top bits (the bucket) depend on every byte.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        hash ^= hash >> 29
        return hash &* 0x9E37_79B9_7F4A_7C15
    }

    /// Collects records, then lays them out (`build()`).
    struct Builder {
        private var bytes: [UInt8] = []
        private var starts: [UInt32] = []
        private var hashes: [UInt64] = []
        private(set) var count = 0
        private var hasSingleLabelKeys = false

        init(expected: Int = 0) {
            self.starts.reserveCapacity(expected)
            self.hashes.reserveCapacity(expected)
            self.bytes.reserveCapacity(expected * 26)
        }

        /// Adds a record. Keys are at most 255 bytes and payloads 65535 (longer ones are
        /// refused: `false`).
        @discardableResult
        mutating func add(
            key: UnsafeRawBufferPointer, tag: UInt16, payload: UnsafeRawBufferPointer = .init(start: nil, count: 0)
        )
            -> Bool
        {
            guard key.count <= 255, payload.count <= 65535, self.bytes.count < Int(UInt32.max) - 70_000 else {
                return false
            }
            self.starts.append(UInt32(self.bytes.count))
            self.hashes.append(NameTable.hash(key))
            if !self.hasSingleLabelKeys, !key.contains(UInt8(ascii: ".")) { self.hasSingleLabelKeys = true }
            self.bytes.append(UInt8(key.count))
            self.bytes.append(UInt8(truncatingIfNeeded: tag))
            self.bytes.append(UInt8(truncatingIfNeeded: tag >> 8))
            self.bytes.append(UInt8(truncatingIfNeeded: payload.count))
            self.bytes.append(UInt8(truncatingIfNeeded: payload.count >> 8))
            self.bytes.append(contentsOf: key)
            self.bytes.append(contentsOf: payload)
            self.count += 1
            return true
        }

        mutating func add(key: String, tag: UInt16, payload: String = "") {
            var key = key
            var payload = payload
            key.withUTF8 { key in
                payload.withUTF8 { payload in
                    _ = self.add(key: UnsafeRawBufferPointer(key), tag: tag, payload: UnsafeRawBufferPointer(payload))
                }
            }
        }

        /// Lays the records out by bucket (a counting sort: linear time).
        consuming func build() -> NameTable {
            guard self.count > 0 else { return .empty }
            var bits = 1
            while (1 << bits) < max(2, self.count / 2) { bits += 1 }
            let bucketCount = 1 << bits
            let shift = UInt64(64 - bits)
            var directory = [UInt32](repeating: 0, count: bucketCount + 1)
            var sizes = [UInt32](repeating: 0, count: bucketCount)
            let starts = self.starts
            let hashes = self.hashes
            let bytes = self.bytes
            bytes.withUnsafeBufferPointer { bytes in
                for index in 0..<starts.count {
                    let start = Int(starts[index])
                    let size = 5 + Int(bytes[start]) + (Int(bytes[start + 3]) | Int(bytes[start + 4]) << 8)
                    sizes[Int(truncatingIfNeeded: hashes[index] >> shift)] += UInt32(size)
                }
            }
            var total: UInt32 = 0
            for bucket in 0..<bucketCount {
                directory[bucket] = total
                total += sizes[bucket]
            }
            directory[bucketCount] = total
            var cursor = Array(directory[0..<bucketCount])
            sizes = []
            var arena = [UInt8](repeating: 0, count: Int(total))
            bytes.withUnsafeBufferPointer { bytes in
                arena.withUnsafeMutableBufferPointer { arena in
                    for index in 0..<starts.count {
                        let start = Int(starts[index])
                        let size = 5 + Int(bytes[start]) + (Int(bytes[start + 3]) | Int(bytes[start + 4]) << 8)
                        let bucket = Int(truncatingIfNeeded: hashes[index] >> shift)
                        let target = Int(cursor[bucket])
                        cursor[bucket] += UInt32(size)
                        for offset in 0..<size { arena[target + offset] = bytes[start + offset] }
                    }
                }
            }
            return NameTable(
                directory: directory, arena: arena, shift: shift, count: starts.count,
                hasSingleLabelKeys: self.hasSingleLabelKeys)
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
