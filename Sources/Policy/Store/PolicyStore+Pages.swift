import Foundation
import GRDB

/// A page template as stored.
public struct StoredPage: Sendable, Hashable {
    public let name: String
    public let contentType: String
    public let body: String
}

extension PolicyStore {
    /// Inserts the `*.html` templates of `directory` that the database does not have yet.
    /// A template that does not compile is not seeded (and reported).
    @discardableResult
    func seedPages(from directory: String) throws(PolicyStoreError) -> [String] {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var pages: [(String, String)] = []
        for file in files.sorted() where file.hasSuffix(".html") {
            guard let bytes = try? FileContents.bytes(of: directory + "/" + file),
                let body = String(validating: bytes, as: UTF8.self),
                (try? PageTemplate(name: String(file.dropLast(5)), source: body)) != nil
            else { continue }
            pages.append((String(file.dropLast(5)), body))
        }
        let existing = try self.read { db in try Set(String.fetchAll(db, sql: "SELECT name FROM pages")) }
        let missing = pages.filter { !existing.contains($0.0) }
        guard !missing.isEmpty else { return [] }
        try self.change(
            actor: "portcullis", action: "seed pages", detail: { _ in missing.map(\.0).joined(separator: " ") }
        ) { db in
            for (name, body) in missing {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO pages (name, body, updated_at) VALUES (?, ?, ?)",
                    arguments: [name, body, Int64(Date().timeIntervalSince1970)])
            }
        }
        return missing.map(\.0)
    }

    public func pages() throws(PolicyStoreError) -> [StoredPage] {
        try self.read { db in
            try Row.fetchAll(db, sql: "SELECT name, content_type, body FROM pages ORDER BY name").map {
                StoredPage(name: $0["name"], contentType: $0["content_type"], body: $0["body"])
            }
        }
    }

    /// Replaces (or adds) a template; one that does not compile, or uses unescaped output, is
    /// refused with the reason.
    public func setPage(
        _ name: String, body: String, contentType: String = "text/html; charset=utf-8", actor: String
    )
        throws(PolicyStoreError)
    {
        try Self.validateName(name, field: "page")
        do {
            _ = try PageTemplate(name: name, source: body)
        } catch {
            throw .invalid(PolicyInputError(field: "template", value: name, problem: error.description))
        }
        try self.change(actor: actor, action: "set page", detail: { _ in name }) { db in
            try db.execute(
                sql: """
                    INSERT INTO pages (name, content_type, body, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET content_type = excluded.content_type, body = excluded.body,
                        updated_at = excluded.updated_at
                    """, arguments: [name, contentType, body, Int64(Date().timeIntervalSince1970)])
        }
    }
}
