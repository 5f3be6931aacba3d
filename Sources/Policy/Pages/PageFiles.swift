/// The `NAME.html` page templates of a directory (the defaults ship in `share/pages/`), read
/// and compiled: the database is seeded from them.
public struct PageFiles: Sendable {
    /// A template file that compiled.
    public struct Page: Sendable {
        public let name: String
        public let source: String
        public let template: PageTemplate
    }

    /// The templates that compiled, by file name.
    public let pages: [Page]
    /// The files that did not, each with why (unreadable, not UTF-8 text, a syntax error,
    /// unescaped output).
    public let refused: [PageTemplateError]

    /// Reads every `*.html` file of `directory`; throws only if the directory cannot be listed.
    public static func read(directory: String) throws(PageTemplateError) -> PageFiles {
        let files: [String]
        do {
            files = try FileContents.names(in: directory)
        } catch {
            throw .unreadable(error.detail, template: directory)
        }
        var pages: [Page] = []
        var refused: [PageTemplateError] = []
        for file in files.sorted() where file.hasSuffix(".html") {
            let name = String(file.dropLast(".html".count))
            let bytes: [UInt8]
            do {
                bytes = try FileContents.bytes(of: directory + "/" + file)
            } catch {
                refused.append(.unreadable(error.detail, template: name))
                continue
            }
            guard let source = String(validating: bytes, as: UTF8.self) else {
                refused.append(.unreadable("not UTF-8 text", template: name))
                continue
            }
            do {
                pages.append(Page(name: name, source: source, template: try PageTemplate(name: name, source: source)))
            } catch {
                refused.append(error)
            }
        }
        return PageFiles(pages: pages, refused: refused)
    }
}
