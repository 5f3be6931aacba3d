/// A line that was skipped because it could not be used.
public struct ImportProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file, as in ``ImportFile/source``.
    public let file: String
    /// The 1-based line number.
    public let line: Int
    /// The line without surrounding blanks, at most ``textLimit`` characters (then `…`).
    public let text: String
    /// What is wrong with it.
    public let reason: String

    public static let textLimit = 200

    /// `text` is shortened to ``textLimit`` characters.
    public init(file: String, line: Int, text: String, reason: String) {
        self.file = file
        self.line = line
        self.text = text.count > Self.textLimit ? text.prefix(Self.textLimit) + "…" : text
        self.reason = reason
    }

    /// Bytes that are not UTF-8 are shown as U+FFFD.
    init(file: String, line: Int, text: UnsafeBufferPointer<UInt8>, reason: String) {
        self.init(file: file, line: line, text: String(decoding: text, as: UTF8.self), reason: reason)
    }

    public var description: String { "\(self.file):\(self.line): \(self.reason): \"\(self.text)\"" }
}
