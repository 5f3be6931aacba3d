/// The set of values a list already has, as positions in its `values` array.
///
/// A `Set<String>` beside the array would hold a second reference to every string, and
/// dropping it touches millions of strings in hash order (a cache miss each). This table
/// holds only a 32-bit hash tag and the position, in one `UInt64` per slot: it is freed in
/// one piece and grows without rehashing strings.
///
/// Values are added in batches: looking up a slot of a table of tens of megabytes is a
/// cache miss, and touching the home slots of a whole batch before inserting lets the
/// processor wait for all of those misses at once rather than one after another (about
/// 150 ns a line the plain way).
struct ValueIndex {
    /// `tag << 32 | position + 1`; 0 is an empty slot.
    private var slots: [UInt64]
    private var count = 0
    /// Keeps the touching loads from being optimised away.
    private var touched: UInt64 = 0

    init(expectedCount: Int) {
        var capacity = 16
        while capacity * 7 < expectedCount * 10 { capacity *= 2 }
        self.slots = Array(repeating: 0, count: capacity)
    }

    /// Appends each value of `batch` that `values` does not have yet, in order; returns how
    /// many were duplicates.
    mutating func append(_ batch: [String], to values: inout [String]) -> Int {
        let tags = batch.map(Self.tag)
        var touched: UInt64 = 0
        let mask = self.slots.count - 1
        for tag in tags { touched |= self.slots[Int(tag) & mask] }
        self.touched = touched
        var duplicates = 0
        for (value, tag) in zip(batch, tags) where !self.append(value, tag: tag, to: &values) { duplicates += 1 }
        return duplicates
    }

    private mutating func append(_ value: String, tag: UInt32, to values: inout [String]) -> Bool {
        let mask = self.slots.count - 1
        var slot = Int(tag) & mask
        while true {
            let entry = self.slots[slot]
            if entry == 0 { break }
            if UInt32(truncatingIfNeeded: entry >> 32) == tag,
                values[Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1] == value
            {
                return false
            }
            slot = (slot + 1) & mask
        }
        values.append(value)
        self.slots[slot] = UInt64(tag) << 32 | UInt64(values.count)
        self.count += 1
        if self.count * 10 > self.slots.count * 7 { self.grow() }
        return true
    }

    private mutating func grow() {
        var larger = [UInt64](repeating: 0, count: self.slots.count * 2)
        let mask = larger.count - 1
        for entry in self.slots where entry != 0 {
            var slot = Int(truncatingIfNeeded: entry >> 32) & mask
            while larger[slot] != 0 { slot = (slot + 1) & mask }
            larger[slot] = entry
        }
        self.slots = larger
    }

    /// 32 bits of the value's hash (randomly seeded per process, so lists cannot be built to
    /// collide).
    private static func tag(_ value: String) -> UInt32 {
        var hasher = Hasher()
        let hashed: Void? = value.utf8.withContiguousStorageIfAvailable {
            hasher.combine(bytes: UnsafeRawBufferPointer($0))
        }
        if hashed == nil { for byte in value.utf8 { hasher.combine(byte) } }
        let hash = UInt64(bitPattern: Int64(hasher.finalize()))
        return UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
    }
}
