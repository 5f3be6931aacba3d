import Foundation
import GRDB
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `portcullis policy …` against the database of a running `portcullis run`, as an
/// administrator would use them.
extension Integration {
    @Suite struct PolicyCommandLineTests {
        private func policy(_ arguments: [String], _ scratch: TemporaryDirectory) throws -> Subprocess.Result {
            try PortcullisBinary.run(["policy"] + arguments + ["--data-dir", scratch.path])
        }

        @Test func commandsEditTheRunningProxysPolicyWithoutARestart() async throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let port = try FreePort.pick()
            let curl = Curl(proxy: "http://127.0.0.1:\(port)")
            let (status, output) = try await PortcullisBinary.withRunning(
                ["run", "--data-dir", scratch.path, "--listen", "127.0.0.1:\(port)", "--access-log", "off"],
                port: port, scratch: scratch
            ) { _ in
                let url = "http://www.blocked.invalid/"
                #expect(try curl.get(url, directory: scratch).status == 503, "not resolvable, not blocked yet")

                let added = try self.policy(["add", "deny", "blocked.invalid", "--actor", "alice"], scratch)
                #expect(added.status == 0, "\(added.stderr)")
                #expect(added.output.contains("1 added"))
                #expect(await eventually { (try? curl.get(url, directory: scratch).status) == 403 })

                let test = try self.policy(["test", url], scratch)
                #expect(test.output.contains("verdict:  deny"))
                #expect(test.output.contains("entry:    blocked.invalid"))
                #expect(test.output.contains("list:     deny"))
                let lists = try self.policy(["lists"], scratch)
                #expect(lists.output.contains("deny\tdeny\tdeny\tyes\t1\t1\t0\t0\t0\tmanual"))
                let audit = try self.policy(["audit", "--limit", "1"], scratch)
                #expect(audit.output.contains("alice\tadd entries"))

                _ = try self.policy(["remove", "deny", "blocked.invalid"], scratch)
                #expect(await eventually { (try? curl.get(url, directory: scratch).status) == 503 })

                let rule = try self.policy(
                    ["rule", "add", "--list", "moved", "--action", "redirect=http://portal.invalid/?u=%u"], scratch)
                #expect(rule.status == 0, "\(rule.stderr)")
                _ = try self.policy(["add", "moved", "old.invalid"], scratch)
                #expect(await eventually { (try? curl.get("http://old.invalid/", directory: scratch).status) == 302 })
            }
            #expect(status == 0)
            #expect(output.contains("policy loaded"))
        }

        @Test func sighupReloadsAChangeMadeBehindTheStoresBack() async throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let port = try FreePort.pick()
            let curl = Curl(proxy: "http://127.0.0.1:\(port)")
            _ = try await PortcullisBinary.withRunning(
                ["run", "--data-dir", scratch.path, "--listen", "127.0.0.1:\(port)", "--access-log", "off"],
                port: port, scratch: scratch
            ) { process in
                // An edit with sqlite3 does not bump the generation: the reloader cannot see it…
                let database = try DatabaseQueue(path: scratch.file("portcullis.db"))
                try await database.write { db in
                    try db.execute(
                        sql: "INSERT INTO entries (list_id, kind, value, added_at) VALUES (2, 0, 'hup.invalid', 0)")
                }
                try await Task.sleep(for: .milliseconds(600))
                #expect(try curl.get("http://hup.invalid/", directory: scratch).status == 503)
                // …until SIGHUP.
                kill(process.processIdentifier, SIGHUP)
                #expect(await eventually { (try? curl.get("http://hup.invalid/", directory: scratch).status) == 403 })
            }
        }

        @Test func aKilledImportLeavesTheDatabaseAsItWas() async throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            var lines = ""
            lines.reserveCapacity(3_000_000 * 24)
            for index in 0..<3_000_000 { lines += "host\(index).killed-import.example\n" }
            try scratch.write("big.txt", Data(lines.utf8))
            #expect(try self.policy(["add", "deny", "before.example"], scratch).status == 0)

            let log = scratch.file("import.log")
            let process = try Subprocess.start(
                PortcullisBinary.path,
                ["policy", "import", scratch.file("big.txt"), "--list", "big", "--data-dir", scratch.path],
                log: log, environment: PortcullisBinary.environment([:]))
            // Kill it while the transaction is being written: once the WAL has grown.
            let writing = await eventually(seconds: 60) {
                let size = (try? FileManager.default.attributesOfItem(atPath: scratch.file("portcullis.db-wal"))[.size])
                return ((size as? Int) ?? 0) > 4_000_000 || !process.isRunning
            }
            #expect(writing && process.isRunning, "the import was still writing when killed")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            let lists = try self.policy(["lists"], scratch)
            #expect(lists.status == 0, "\(lists.stderr)")
            #expect(!lists.output.contains("big"), "nothing of the killed import is there")
            #expect(lists.output.contains("deny\tdeny\tdeny\tyes\t1\t"), "what was committed before is")
            let check = try await DatabaseQueue(path: scratch.file("portcullis.db")).read { db in
                try String.fetchOne(db, sql: "PRAGMA integrity_check")
            }
            #expect(check == "ok")
            let again = try self.policy(["import", scratch.file("big.txt"), "--list", "big"], scratch)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.output.contains("imported 3000000 entries"))
        }

        @Test func badInputIsRefusedWithAMessageAndAFailingStatus() throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let bad = try self.policy(["add", "deny", "ok.example", "bad domain"], scratch)
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("domain 'bad domain'"))
            #expect(!(try self.policy(["lists"], scratch).output.contains("\t1\t")), "nothing was added")
            let action = try self.policy(["rule", "add", "--list", "deny", "--action", "frobnicate"], scratch)
            #expect(action.status == 64)
            #expect(action.stderr.contains("action"))
            #expect(action.stderr.contains("Usage: portcullis policy rule add "), "\(action.stderr)")
            #expect(action.stderr.contains("See 'portcullis policy rule add --help'"), "\(action.stderr)")
            let window = try self.policy(["schedule", "set", "lessons", "--window", "mon-fri 8-16"], scratch)
            #expect(window.status == 64)
            #expect(window.stderr.contains("window"))
            #expect(window.stderr.contains("Usage: portcullis policy schedule set "), "\(window.stderr)")
            // A moment the calendar does not have is named as such, not as a wrong format.
            let moment = try self.policy(["test", "http://a.example/", "--at", "2026-02-30T10:00"], scratch)
            #expect(moment.status == 64)
            #expect(
                moment.stderr.contains("--at '2026-02-30T10:00': the date: month 2 of 2026 has 28 days, not 30"),
                "\(moment.stderr)")
            let missing = try self.policy(["add", "no-such-list", "a.example"], scratch)
            #expect(missing.stderr.contains("no list named 'no-such-list'"))

            try scratch.write("list.txt", Data("good.example\nnot a domain\n\nalso good.example\n".utf8))
            let imported = try self.policy(["import", scratch.file("list.txt"), "--list", "mixed"], scratch)
            #expect(imported.status == 0)
            #expect(imported.output.contains("imported 1 entries"))
            #expect(imported.stderr.contains("list.txt:2:"))
            #expect(imported.stderr.contains("list.txt:4:"))
        }

        @Test func benchmarkMeasuresThePolicyAndRefusesRunsItCannotMake() throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            _ = try self.policy(["add", "deny", "one.example", "two.example", "three.example"], scratch)
            let run = try self.policy(["benchmark", "--seconds", "0.2", "--hosts", "100"], scratch)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.output.contains("entries compiled:     3"), "\(run.output)")
            #expect(run.output.contains("decisions per second:"), "\(run.output)")
            // Half the hosts are subdomains of listed domains: blocked.
            #expect(run.output.contains("% blocked"), "\(run.output)")

            // Each was a crash (an overflowing deadline) or a run with nothing to measure.
            for (arguments, quoted) in [
                (["--seconds", "nan"], "not nan"), (["--seconds", "1e30"], "not 1e+30"),
                (["--seconds", "0"], "not 0.0"), (["--seconds", "inf"], "not inf"),
                (["--hosts", "1"], "not 1"), (["--hosts", "10000001"], "not 10000001"),
            ] {
                let refused = try self.policy(["benchmark"] + arguments, scratch)
                #expect(refused.status == 64, "\(arguments): \(refused.stderr)")
                #expect(refused.stderr.contains(quoted), "\(arguments): \(refused.stderr)")
                #expect(refused.stderr.contains("Usage: portcullis policy benchmark "), "\(refused.stderr)")
            }
        }

        @Test func anUnusableDatabaseStopsTheStartWithAClearError() throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            try scratch.write("portcullis.db", Data(repeating: 0x41, count: 8192))
            let port = try FreePort.pick()
            let result = try PortcullisBinary.run(
                ["run", "--data-dir", scratch.path, "--listen", "127.0.0.1:\(port)"], timeout: 20)
            // Not a usage error: the message alone, exit status 1.
            #expect(result.status == 1)
            #expect(result.stderr.contains("portcullis.db"))
            #expect(!result.stderr.contains("Usage:"))
        }
    }
}
