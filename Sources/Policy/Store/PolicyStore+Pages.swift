import Foundation
import GRDB

/// A page template as stored.
public struct StoredPage: Sendable, Hashable {
    public let name: String
    public let contentType: String
    public let body: String
}

extension PolicyStore {
    /// What seeding the page templates did.
    public struct PageSeeding: Sendable {
        /// The templates inserted (the database had none of that name).
        public let seeded: [String]
        /// The files that were not, and why; for the administrator to hear of.
        public let refused: [PageTemplateError]
    }

    /// Inserts the `*.html` templates of `directory` that the database does not have yet
    /// (those it has are kept as the administrator left them). A file that is not a usable
    /// template is not inserted; it is among `refused`, as is a directory that cannot be read.
    @discardableResult
    public func seedPages(from directory: String) throws(PolicyStoreError) -> PageSeeding {
        let files: PageFiles
        do {
            files = try PageFiles.read(directory: directory)
        } catch {
            return PageSeeding(seeded: [], refused: [error])
        }
        let existing = try self.read { db in try Set(String.fetchAll(db, sql: "SELECT name FROM pages")) }
        let missing = files.pages.filter { !existing.contains($0.name) }
        guard !missing.isEmpty else { return PageSeeding(seeded: [], refused: files.refused) }
        try self.change(
            actor: "portcullis", action: "seed pages", detail: { _ in missing.map(\.name).joined(separator: " ") }
        ) { db in
            for page in missing {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO pages (name, body, updated_at) VALUES (?, ?, ?)",
                    arguments: [page.name, page.source, Int64(Date().timeIntervalSince1970)])
            }
        }
        return PageSeeding(seeded: missing.map(\.name), refused: files.refused)
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
