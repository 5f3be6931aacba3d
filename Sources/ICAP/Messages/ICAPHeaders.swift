/// The header fields of an ICAP message: ordered name/value pairs, as they were received or will be sent.
///
/// Names keep the spelling they were given; look-ups compare names ignoring ASCII case, as
/// RFC 3507 §4.3 (by way of RFC 2616) asks. A name may occur more than once.
public struct ICAPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    private var fields: [(name: String, value: String)]

    /// Headers from pairs, in the order given.
    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    /// Headers from a literal, in the order written: `["ISTag": "\"x\"", "Allow": "204"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// How many fields there are (a repeated name counts once per line).
    public var count: Int { self.fields.count }

    /// Whether there are no fields.
    public var isEmpty: Bool { self.fields.isEmpty }

    /// Appends a field, keeping any others of the same name.
    public mutating func add(name: String, value: String) {
        self.fields.append((name: name, value: value))
    }

    /// Removes every field called `name`, then appends one with `value`.
    public mutating func replaceOrAdd(name: String, value: String) {
        self.remove(name: name)
        self.add(name: name, value: value)
    }

    /// Removes every field called `name`.
    public mutating func remove(name: String) {
        self.fields.removeAll { Self.namesMatch($0.name, name) }
    }

    /// The value of the first field called `name`, or nil.
    public func first(name: String) -> String? {
        self.fields.first { Self.namesMatch($0.name, name) }?.value
    }

    /// The values of every field called `name`, in order.
    public func values(name: String) -> [String] {
        self.fields.filter { Self.namesMatch($0.name, name) }.map(\.value)
    }

    /// Whether any field is called `name`.
    public func contains(name: String) -> Bool {
        self.fields.contains { Self.namesMatch($0.name, name) }
    }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        self.fields.makeIterator()
    }

    /// The fields as `Name: value` lines.
    public var description: String {
        self.fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }

    /// Field-by-field equality: the same names (exact spelling) and values in the same order.
    public static func == (lhs: ICAPHeaders, rhs: ICAPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// Compares two field names ignoring ASCII case.
    static func namesMatch(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.elementsEqual(rhs.utf8) { a, b in Self.asciiLowercased(a) == Self.asciiLowercased(b) }
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
