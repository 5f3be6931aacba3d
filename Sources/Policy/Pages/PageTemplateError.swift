/// Why a page template was refused.
public struct PageTemplateError: Error, CustomStringConvertible, Sendable {
    private enum Kind: Sendable {
        case unescapedPlaceholder
        case syntax(String)
        case unreadable(String)
    }

    private let kind: Kind
    /// The template's name (its file name without `.html`).
    public let template: String

    private init(_ kind: Kind, template: String) {
        self.kind = kind
        self.template = template
    }

    static func unescapedPlaceholder(template: String) -> Self { .init(.unescapedPlaceholder, template: template) }
    static func syntax(_ detail: String, template: String) -> Self { .init(.syntax(detail), template: template) }
    static func unreadable(_ detail: String, template: String) -> Self {
        .init(.unreadable(detail), template: template)
    }

    public var description: String {
        switch self.kind {
        case .unescapedPlaceholder:
            return
                "page template '\(self.template)': unescaped output ({{{…}}}, {{&…}}, a {{%…}} pragma or a {{=…=}} delimiter change) is not allowed; use {{name}}"
        case .syntax(let detail):
            return "page template '\(self.template)': syntax error: \(detail)"
        case .unreadable(let detail):
            return "page template '\(self.template)': cannot be read: \(detail)"
        }
    }
}
