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
    private let identity = Identity()

    private final class Identity: Sendable {}

    init(patterns: [[String]]) {
        self.patterns = patterns
    }

    var isEmpty: Bool { self.patterns.allSatisfy(\.isEmpty) }

    /// The index of the first pattern of `list` that matches `url`, if any.
    func firstMatch(list: Int, in url: String) -> Int? {
        guard list < self.patterns.count, !self.patterns[list].isEmpty else { return nil }
        let compiled = self.compiledForThisThread()
        return compiled[list].firstIndex { $0.matches(url) }
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
