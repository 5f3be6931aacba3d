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
            throw .syntax(String(describing: error), template: name)
        }
        self.name = name
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
