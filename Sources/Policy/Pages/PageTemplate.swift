import Mustache

/// One compiled local page (block page, error page). Placeholders are Mustache `{{name}}`
/// tags and are always HTML-escaped: templates that ask for unescaped output are refused.
public struct PageTemplate: Sendable {
    public let name: String
    let compiled: MustacheTemplate

    public init(name: String, source: String) throws(PageTemplateError) {
        if Self.mayAskForUnescapedOutput(source) { throw .unescapedPlaceholder(template: name) }
        do {
            self.compiled = try MustacheTemplate(string: source)
        } catch {
            throw .syntax(Self.describe(error), template: name)
        }
        self.name = name
    }

    /// Mustache's parse error in words, with where it is: `line 3, column 12: a section is
    /// not closed ({{/name}})`.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.ParserError else { return String(describing: error) }
        let what: String
        switch error.error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect?: what = "a section is closed with another name than it was opened with"
        case .unfinishedName?: what = "a tag is not finished (`}}` missing, or a name that is not one)"
        case .expectedSectionEnd?: what = "a section is not closed ({{/name}})"
        case .invalidSetDelimiter?: what = "a delimiter change is malformed"
        case .transformAppliedToInheritanceSection?: what = "a transform is applied to an inherited section"
        case .illegalTokenInsideInheritSection?, .textInsideInheritSection?:
            what = "a partial's inherited sections have something other than block definitions between them"
        case .invalidConfigVariableSyntax?, .unrecognisedConfigVariable?: what = "a {{%…}} pragma is malformed"
        case nil:
            // The scanner's own error (internal to Mustache) when the text ends inside a tag.
            let text = String(describing: error.error)
            what = text == "overflow" ? "the template ends inside a tag" : text
        }
        return "line \(error.context.lineNumber), column \(error.context.columnNumber): \(what)"
    }

    public func render(_ values: PageValues) -> String {
        self.compiled.render(values.context)
    }

    /// Whether a tag opens with `{`, `&` (unescaped output), `%` (a pragma, which can turn
    /// escaping off) or `=` (new delimiters: `{{=| |=}}|&url|` is unescaped output the other
    /// checks would not see), white space after the braces allowed as Mustache allows it.
    static func mayAskForUnescapedOutput(_ source: String) -> Bool {
        var bytes = source.utf8[...]
        while let open = bytes.firstRange(of: "{{".utf8) {
            bytes = bytes[open.upperBound...].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            switch bytes.first {
            case UInt8(ascii: "{"), UInt8(ascii: "&"), UInt8(ascii: "%"), UInt8(ascii: "="): return true
            default: continue
            }
        }
        return false
    }
}
