import Mustache

/// The set of local page templates, compiled once and rendered from memory.
///
/// Templates come from the database's `pages` table (seeded from `PageFiles`, the
/// `NAME.html` files the defaults ship as in `share/pages/`). They may build on each other with Mustache partials (`{{> name}}`) and inheritance
/// (`{{< layout}}{{$intro}}…{{/intro}}{{/layout}}`): the shipped pages share `layout.html`.
/// A page that has no template of its own is rendered with `error.html`; if that is missing
/// too, a built-in page is used, so a local answer is always possible.
public struct PageCatalog: Sendable {
    public static let fallbackName = "error"

    private let library: MustacheLibrary
    private let available: Set<String>
    private let fallback: PageTemplate

    /// Names of the templates that were loaded.
    public var names: [String] { self.available.sorted() }

    public init(templates: [PageTemplate]) {
        var library = MustacheLibrary()
        for template in templates { library.register(template.compiled, named: template.name) }
        self.library = library
        self.available = Set(templates.map(\.name))
        // The built-in page cannot fail to compile: it is a constant we test.
        self.fallback = try! PageTemplate(name: "built-in", source: Self.builtIn)
    }

    /// Renders the page `name`, or the fallback page when there is no such template.
    public func render(_ name: String, _ values: PageValues) -> String {
        for candidate in [name, Self.fallbackName] where self.available.contains(candidate) {
            if let html = self.library.render(values.context, withTemplate: candidate) { return html }
        }
        return self.fallback.render(values)
    }

    public static let builtIn = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>{{status}} {{title}}</title></head>
        <body><h1>{{status}} {{title}}</h1><p>{{reason}}</p>
        <p>URL: {{url}}</p><p>Client: {{client}} &middot; {{time}} &middot; request {{request_id}}</p>
        <hr><address>Portcullis</address></body></html>

        """
}
