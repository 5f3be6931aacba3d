import Foundation

#if canImport(Glibc)
    import Glibc
#endif

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
        for key in settings.keys.sorted() where !knownKeys.contains(key) {
            let near = knownKeys.filter { Self.editDistance($0, key) <= 2 }
            throw ConfigurationFileError(
                path: path,
                problem: "no setting is named '\(key)'"
                    + (near.isEmpty ? "" : " (did you mean '\(near[0])'?)")
                    + "; the settings are " + knownKeys.joined(separator: ", "))
        }
    }

    private static func read(_ path: String) throws(ConfigurationFileError) -> Data {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ConfigurationFileError(path: path, problem: Self.reason(errno)) }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: Self.maxBytes + 1)
        var count = 0
        while count < bytes.count {
            let read = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(descriptor, buffer.baseAddress! + count, buffer.count - count)
            }
            if read < 0 && errno == EINTR { continue }
            guard read >= 0 else { throw ConfigurationFileError(path: path, problem: Self.reason(errno)) }
            if read == 0 { break }
            count += read
        }
        guard count <= Self.maxBytes else {
            throw ConfigurationFileError(path: path, problem: "larger than \(Self.maxBytes) bytes: not a settings file")
        }
        return Data(bytes[..<count])
    }

    private static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// Foundation's "Invalid value around line 1, column 0." as the rest of a sentence.
    private static func sentence(_ text: String) -> String {
        var text = text
        if text.hasSuffix(".") { text.removeLast() }
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    /// Insertions, deletions and substitutions from `a` to `b` (Levenshtein).
    static func editDistance(_ a: String, _ b: String) -> Int {
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
