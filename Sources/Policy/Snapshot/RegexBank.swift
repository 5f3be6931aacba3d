#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The regular expressions of a snapshot, compiled once per thread that matches with them.
///
/// A compiled POSIX pattern holds a lock that `regexec` takes (glibc), so sharing one between
/// event loops would put a contended lock on the request path. Instead each thread keeps its
/// own compiled copy of the current snapshot's patterns in thread-local storage, made the
/// first time that thread needs them; a thread that moves on to a newer snapshot drops the
/// older copy.
final class RegexBank: Sendable {
    /// Patterns by list index (empty for lists without expressions).
    let patterns: [[String]]
    /// For each pattern, a literal every match contains (lowercased), when there is one.
    private let literals: [[[UInt8]?]]
    /// For each pattern with a literal, the bloom bit of the literal's first two bytes.
    private let bloomBits: [[Int]]
    private let identity = Identity()

    private final class Identity: Sendable {}

    init(patterns: [[String]]) {
        self.patterns = patterns
        self.literals = patterns.map { $0.map(RequiredLiteral.of) }
        self.bloomBits = self.literals.map { $0.map { $0.map { Self.bloomBit($0[0], $0[1]) } ?? -1 } }
    }

    /// Words of the per-request bigram bloom filter.
    static let bloomWords = 64

    @inline(__always)
    static func bloomBit(_ first: UInt8, _ second: UInt8) -> Int {
        (Int(first) &* 131 &+ Int(second)) & (Self.bloomWords * 64 - 1)
    }

    /// Marks every pair of adjacent bytes of the (lowercased) URL in `bloom`: a literal whose
    /// first two bytes are not marked is not in the URL.
    static func fillBloom(_ bloom: UnsafeMutableBufferPointer<UInt64>, from lowered: UnsafeRawBufferPointer) {
        bloom.update(repeating: 0)
        guard lowered.count >= 2 else { return }
        for index in 0..<(lowered.count - 1) {
            let bit = Self.bloomBit(lowered[index], lowered[index + 1])
            bloom[bit >> 6] |= 1 << UInt64(bit & 63)
        }
    }

    var isEmpty: Bool { self.patterns.allSatisfy(\.isEmpty) }

    /// The index of the first pattern of `list` that matches the URL, if any. The URL comes
    /// NUL-terminated as is, and lowercased (for the literal prefilter).
    func firstMatch(
        list: Int, url: UnsafePointer<CChar>, lowered: UnsafeRawBufferPointer, bloom: UnsafeMutableBufferPointer<UInt64>
    ) -> Int? {
        guard list < self.patterns.count, !self.patterns[list].isEmpty else { return nil }
        var compiled: [[PosixRegex]]?
        for index in self.patterns[list].indices {
            let bit = self.bloomBits[list][index]
            if bit >= 0 {
                if bloom[bit >> 6] & (1 << UInt64(bit & 63)) == 0 { continue }
                if !Self.contains(lowered, self.literals[list][index]!) { continue }
            }
            if compiled == nil { compiled = self.compiledForThisThread() }
            if compiled![list][index].matches(cString: url) { return index }
        }
        return nil
    }

    /// The same, for a URL given as a string (tests, explanations).
    func firstMatch(list: Int, in url: String) -> Int? {
        var url = url
        return url.withUTF8 { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count * 2 + 1) { buffer in
                Self.prepare(bytes, into: buffer)
                let lowered = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[0..<bytes.count]))
                return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Self.bloomWords) { bloom in
                    Self.fillBloom(bloom, from: lowered)
                    return self.firstMatch(
                        list: list, url: Self.cString(buffer, count: bytes.count), lowered: lowered, bloom: bloom)
                }
            }
        }
    }

    /// Lays out, in a buffer of `2 × count + 1` bytes, the lowercased URL then the URL
    /// NUL-terminated.
    static func prepare(_ bytes: UnsafeBufferPointer<UInt8>, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        Self.prepareInPlace(buffer, count: bytes.count, from: bytes)
    }

    /// The same, with the URL's bytes read from `source` (which may be the buffer's own
    /// second half, where `RequestFacts.writeURL` put them).
    static func prepareInPlace(
        _ buffer: UnsafeMutableBufferPointer<UInt8>, count: Int, from source: UnsafeBufferPointer<UInt8>
    ) {
        for index in 0..<count {
            let byte = source[index]
            buffer[index] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            // A NUL inside the URL would cut it short for regexec: make it a space.
            buffer[count + index] = byte == 0 ? 0x20 : byte
        }
        buffer[2 * count] = 0
    }

    /// Whether `needle` occurs in `haystack` (short URLs, short literals: a plain scan).
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else { return needle.isEmpty }
        let last = haystack.count - needle.count
        var start = 0
        while start <= last {
            if haystack[start] == first {
                var offset = 1
                while offset < needle.count && haystack[start + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return true }
            }
            start += 1
        }
        return false
    }

    static func cString(_ buffer: UnsafeMutableBufferPointer<UInt8>, count: Int) -> UnsafePointer<CChar> {
        UnsafeRawPointer(buffer.baseAddress! + count).assumingMemoryBound(to: CChar.self)
    }

    private func compiledForThisThread() -> [[PosixRegex]] {
        let slot = ThreadSlot.shared
        if let cached = slot.value, cached.owner === self.identity { return cached.compiled }
        // Validated when the snapshot was compiled: a pattern that fails here cannot match.
        let compiled = self.patterns.map { list in list.compactMap { try? PosixRegex($0) } }
        slot.value = CompiledPatterns(owner: self.identity, compiled: compiled)
        return compiled
    }
}

/// One thread's compiled copy.
private final class CompiledPatterns {
    weak var owner: AnyObject?
    let compiled: [[PosixRegex]]

    init(owner: AnyObject, compiled: [[PosixRegex]]) {
        self.owner = owner
        self.compiled = compiled
    }
}

/// A thread-local slot holding one object (released when the thread exits).
private final class ThreadSlot: @unchecked Sendable {
    // The key is written once, in init, and only read afterwards.
    private var key = pthread_key_t()

    static let shared = ThreadSlot()

    private init() {
        pthread_key_create(&self.key) { pointer in
            guard let pointer else { return }
            Unmanaged<AnyObject>.fromOpaque(pointer).release()
        }
    }

    var value: CompiledPatterns? {
        get {
            guard let pointer = pthread_getspecific(self.key) else { return nil }
            return Unmanaged<CompiledPatterns>.fromOpaque(pointer).takeUnretainedValue()
        }
        set {
            if let old = pthread_getspecific(self.key) {
                Unmanaged<CompiledPatterns>.fromOpaque(old).release()
            }
            pthread_setspecific(self.key, newValue.map { Unmanaged.passRetained($0).toOpaque() })
        }
    }
}
