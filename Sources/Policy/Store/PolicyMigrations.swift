import GRDB

/// The schema, as an append-only list of migrations: a shipped migration is never edited;
/// changes come as new ones. Tables are named by string.
enum PolicyMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: lists, groups, rules, schedules, pages, audit") { db in
            try db.execute(sql: Self.v1)
        }
        migrator.registerMigration("v1: starter policy") { db in
            try db.execute(sql: Self.starterPolicy)
        }
        return migrator
    }

    private static let v1 = """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        );
        INSERT INTO settings (key, value) VALUES ('generation', '1');

        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            imported_at INTEGER NOT NULL,
            actor TEXT NOT NULL
        );

        CREATE TABLE lists (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('allow', 'deny')),
            category TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT 'manual',
            enabled INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL
        );

        -- kind: 0 domain, 1 host, 2 url, 3 regex. source_id NULL: added by hand.
        CREATE TABLE entries (
            list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
            kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 3),
            value TEXT NOT NULL,
            comment TEXT,
            added_at INTEGER NOT NULL,
            source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
            PRIMARY KEY (list_id, kind, value)
        ) WITHOUT ROWID;

        CREATE TABLE schedules (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        CREATE TABLE schedule_windows (
            id INTEGER PRIMARY KEY,
            schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
            days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 127),
            start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1440),
            end_minute INTEGER NOT NULL CHECK (end_minute BETWEEN 0 AND 1440)
        );
        CREATE TABLE schedule_dates (
            id INTEGER PRIMARY KEY,
            schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
            first_day INTEGER NOT NULL,
            last_day INTEGER NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('within', 'except'))
        );

        CREATE TABLE groups (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            position INTEGER NOT NULL,
            default_action TEXT NOT NULL CHECK (default_action IN ('allow', 'deny')),
            block_page TEXT NOT NULL DEFAULT 'block',
            is_default INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE group_members (
            id INTEGER PRIMARY KEY,
            group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('network', 'user')),
            value TEXT NOT NULL,
            UNIQUE (group_id, kind, value)
        );

        CREATE TABLE rules (
            id INTEGER PRIMARY KEY,
            group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
            action TEXT NOT NULL CHECK (action IN ('allow', 'deny', 'redirect', 'intercept')),
            target TEXT,
            schedule_id INTEGER REFERENCES schedules(id) ON DELETE RESTRICT
        );
        CREATE INDEX rules_by_group ON rules (group_id, position);

        CREATE TABLE pages (
            name TEXT PRIMARY KEY NOT NULL,
            content_type TEXT NOT NULL DEFAULT 'text/html; charset=utf-8',
            body TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        );

        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        """

    /// One Default group; an empty allow list and an empty deny list, with the rules that
    /// make them work: `portcullis policy add deny example.com` blocks at once.
    private static let starterPolicy = """
        INSERT INTO groups (id, name, position, default_action, is_default) VALUES (1, 'Default', 1000000, 'allow', 1);
        INSERT INTO lists (id, name, kind, category, created_at) VALUES (1, 'allow', 'allow', 'allow', strftime('%s','now'));
        INSERT INTO lists (id, name, kind, category, created_at) VALUES (2, 'deny', 'deny', 'deny', strftime('%s','now'));
        INSERT INTO rules (group_id, position, list_id, action) VALUES (1, 1, 1, 'allow');
        INSERT INTO rules (group_id, position, list_id, action) VALUES (1, 2, 2, 'deny');
        INSERT INTO audit (at, actor, action, detail) VALUES (strftime('%s','now'), 'portcullis', 'create', 'starter policy');
        """
}
