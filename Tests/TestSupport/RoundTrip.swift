/// Text inputs changed at random (seeded) for a parser that turns text into a value and a
/// value back into text: every input either is refused or parses to a value whose text
/// parses back to the same value.
public enum RoundTrip {
    /// The inputs (each seed, then `mutations` changed copies of it) that parsed to a value
    /// whose text did not read back as that value, described for a test's failure message.
    public static func failures<Value: Equatable, Failure: Error>(
        _ seeds: [String], seed: UInt64, mutations: Int = 300, mutator: ByteMutator,
        parse: (String) throws(Failure) -> Value, text: (Value) -> String
    ) -> [String] {
        var random = SeededRandom(seed: seed)
        var failures: [String] = []
        for original in seeds {
            for mutation in 0...mutations {
                let input = mutation == 0 ? original : mutator.mutate(original, using: &random)
                guard let value = try? parse(input) else { continue }
                if (try? parse(text(value))) != value {
                    failures.append("\(input.debugDescription) -> \(text(value).debugDescription) does not read back")
                }
            }
        }
        return failures
    }

    /// The changed copies of `original` that are refused with a message that does not quote
    /// them (`quoted(input)` is not in it), described for a test's failure message.
    public static func refusalsNotQuoting<Value, Failure: Error & CustomStringConvertible>(
        _ original: String, seed: UInt64, count: Int = 2000, mutator: ByteMutator,
        parse: (String) throws(Failure) -> Value, quoted: (String) -> String = { $0 }
    ) -> [String] {
        var random = SeededRandom(seed: seed)
        var failures: [String] = []
        for _ in 0..<count {
            let input = mutator.mutate(original, using: &random)
            do {
                _ = try parse(input)
            } catch {
                if !error.description.contains(quoted(input)) { failures.append(error.description) }
            }
        }
        return failures
    }
}
