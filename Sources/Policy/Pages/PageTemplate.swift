import Mustache

/// One compiled local page (block page, error page). Placeholders are Mustache `{{name}}`
/// tags and are always HTML-escaped: templates that ask for unescaped output are refused.
public struct PageTemplate: Sendable {
    public let name: String
    let compiled: MustacheTemplate

    public init(name: String, source: String) throws(PageTemplateError) {
        if source.contains("{{{") || source.contains("{{&") || source.contains("{{%") {
            throw .unescapedPlaceholder(template: name)
        }
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
}
