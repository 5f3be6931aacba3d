import Foundation
import Policy

/// The JSON file of `--config`, looked over before swift-configuration reads its values. A
/// file that cannot be read, that is not one JSON object, or that names a setting there is
/// none of is refused, saying which: a misspelt key would otherwise leave its setting at the
/// default without a word.
enum ConfigurationFile {
    /// More than any settings file needs; a larger file is not one.
    static let maxBytes = 1 << 20

    static func check(_ path: String, knownKeys: [String]) throws(ConfigurationFileError) {
        let data = try Self.read(path)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw ConfigurationFileError(
                path: path, problem: "not valid JSON" + (detail.map { ": " + Self.sentence($0) } ?? ""))
        }
        guard let settings = object as? [String: Any] else {
            throw ConfigurationFileError(path: path, problem: "expected one JSON object of settings, {\"listen\": …}")
        }
        if let key = settings.keys.sorted().first(where: { !knownKeys.contains($0) }) {
            throw ConfigurationFileError(
                path: path,
                problem: "no setting is named '\(key)'"
                    + (Self.nearest(to: key, in: knownKeys).map { " (did you mean '\($0)'?)" } ?? "")
                    + "; the settings are " + knownKeys.joined(separator: ", "))
        }
    }

    /// The first of `names` within two edits of `name`: what a typo most likely meant.
    static func nearest(to name: String, in names: [String]) -> String? {
        names.first { Self.editDistance($0, name) <= 2 }
    }

    private static func read(_ path: String) throws(ConfigurationFileError) -> Data {
        let bytes: [UInt8]
        do {
            bytes = try FileContents.bytes(of: path, limit: Self.maxBytes + 1)
        } catch {
            throw ConfigurationFileError(path: path, problem: error.detail)
        }
        guard bytes.count <= Self.maxBytes else {
            throw ConfigurationFileError(path: path, problem: "larger than \(Self.maxBytes) bytes: not a settings file")
        }
        return Data(bytes)
    }

    /// Foundation's "Invalid value around line 1, column 0." as the rest of a sentence.
    private static func sentence(_ text: String) -> String {
        var text = text
        if text.hasSuffix(".") { text.removeLast() }
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    /// Insertions, deletions and substitutions from `a` to `b` (Levenshtein).
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

struct ConfigurationFileError: Error, CustomStringConvertible {
    let path: String
    let problem: String
    var description: String { "configuration file '\(self.path)': \(self.problem)" }
}
