import Foundation
import Testing

@testable import Policy

struct PageTemplateTests {
    @Test func everyPlaceholderIsHTMLEscaped() throws {
        let template = try PageTemplate(name: "t", source: "<p>{{url}}</p><p>{{reason}}</p><p>{{client}}</p>")
        let html = template.render(
            PageValues(
                status: 403, title: "x", reason: "<script>alert(1)</script>", url: "http://a/?q=\"'&<>",
                client: "1.2.3.4"))
        #expect(
            html
                == "<p>http://a/?q=&quot;&#39;&amp;&lt;&gt;</p><p>&lt;script&gt;alert(1)&lt;/script&gt;</p><p>1.2.3.4</p>"
        )
    }

    @Test func templatesAskingForUnescapedOutputAreRefused() {
        for source in [
            "{{{url}}}", "{{&url}}", "{{% CONTENT_TYPE: TEXT}}{{url}}", "{{=| |=}}|&url|", "{{ =<% %>=}}<%&url%>",
            "{{ &url}}", "{{\t{url}}}",
        ] {
            #expect(throws: PageTemplateError.self) { try PageTemplate(name: "bad", source: source) }
        }
    }

    @Test func malformedTemplateIsRefusedWithItsName() {
        do {
            _ = try PageTemplate(name: "broken", source: "<p>\n{{#section}}never closed")
            Issue.record("a malformed template was accepted")
        } catch {
            #expect(
                error.description
                    == "page template 'broken': syntax error: line 2, column 25: a section is not closed ({{/name}})")
        }
        for (source, what) in [
            ("{{#a}}x{{/b}}", "closed with another name"),
            ("<p>{{url", "line 1, column 9: the template ends inside a tag"),
            ("{{url}", "line 1, column 6: the template ends inside a tag"),
        ] {
            #expect(throws: PageTemplateError.self) { try PageTemplate(name: "t", source: source) }
            do { _ = try PageTemplate(name: "t", source: source) } catch {
                #expect(error.description.contains(what), "\(source): \(error)")
            }
        }
    }

    @Test func missingTemplateFallsBackToErrorPageThenBuiltIn() throws {
        let empty = PageCatalog(templates: [])
        let builtIn = empty.render("block", PageValues(status: 403, title: "Denied", reason: "r<"))
        #expect(builtIn.contains("403 Denied"))
        #expect(builtIn.contains("r&lt;"))
        let withError = PageCatalog(templates: [try PageTemplate(name: "error", source: "E {{status}}")])
        #expect(withError.render("block", PageValues(status: 502, title: "", reason: "")) == "E 502")
    }
}

struct PageDirectoryTests {
    @Test func aDirectoryGivesWhatItCanAndSaysWhyTheRestWasRefused() throws {
        let directory = try TemporaryDirectory()
        try directory.write("block.html", "<p>{{url}}</p>")
        try directory.write("empty.html", "")
        try directory.write("latin1.html", bytes: Array("<p>caf".utf8) + [0xE9] + Array("</p>".utf8))
        try directory.write("unescaped.html", "{{{url}}}")
        try directory.write("folder.html/inside", "")
        try directory.write("notes.txt", "not a template")

        let files = try PageFiles.read(directory: directory.path)
        #expect(files.pages.map(\.name) == ["block", "empty"])
        #expect(files.pages.map(\.source) == ["<p>{{url}}</p>", ""])
        #expect(
            PageCatalog(templates: files.pages.map(\.template)).render(
                "empty", PageValues(status: 403, title: "t", reason: "r")) == "")
        #expect(
            files.refused.map(\.description) == [
                "page template 'folder': cannot be read: not a regular file",
                "page template 'latin1': cannot be read: not UTF-8 text",
                "page template 'unescaped': unescaped output ({{{…}}}, {{&…}}, a {{%…}} pragma or a {{=…=}} delimiter change) is not allowed; use {{name}}",
            ])
    }
}

struct ShippedPagesTests {
    private var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("share/pages").path
    }

    @Test func everyShippedPageLoadsAndSharesTheLayout() throws {
        let files = try PageFiles.read(directory: self.directory)
        #expect(files.refused.isEmpty)
        let catalog = PageCatalog(templates: files.pages.map(\.template))
        for name in ["bad-request", "access-denied", "connect-denied", "dns-error", "origin-error", "error"] {
            #expect(catalog.names.contains(name))
            let html = catalog.render(
                name,
                PageValues(
                    status: 503, title: "Name Not Resolved", reason: "cannot resolve <x>", url: "http://a/?b=<c>"))
            #expect(html.hasPrefix("<!DOCTYPE html>"), "\(name)")
            #expect(html.contains("<title>503 Name Not Resolved</title>"), "\(name)")
            #expect(html.contains("cannot resolve &lt;x&gt;"), "\(name)")
            #expect(html.contains("http://a/?b=&lt;c&gt;"), "\(name)")
            #expect(!html.contains("<c>") && !html.contains("<x>"), "\(name)")
        }
        let dns = catalog.render("dns-error", PageValues(status: 503, title: "t", reason: "r"))
        #expect(dns.contains("could not be found"))
        // A page without a template of its own is the plain error page.
        let unknown = catalog.render("no-such-page", PageValues(status: 500, title: "t", reason: "r"))
        #expect(unknown.hasPrefix("<!DOCTYPE html>") && !unknown.contains("could not be found"))
    }
}
