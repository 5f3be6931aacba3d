import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `portcullis` executable: flags, environment, configuration file, signals.
extension Integration {
    @Suite struct CommandLineTests {
        @Test func helpDocumentsEverySetting() throws {
            let result = try Subprocess.run(PortcullisBinary.path, ["run", "--help"])
            #expect(result.status == 0)
            for word in [
                "--listen", "--data-dir", "--connect-ports", "--config", "--allow-client", "--deny-destination",
                "--access-log", "--max-header-bytes", "--header-timeout", "--idle-timeout", "--connect-timeout",
                "--tunnel-idle-timeout", "--max-connections", "PORTCULLIS_LISTEN", "PORTCULLIS_CONNECT_PORTS",
                "--icap-service",
                "PORTCULLIS_ICAP_SERVICES",
            ] {
                #expect(result.output.contains(word), "help does not mention \(word)")
            }
            let top = try Subprocess.run(PortcullisBinary.path, ["--help"])
            #expect(top.status == 0)
            #expect(top.output.contains("run"))
            for word in ["--listen", "--data-dir", "--connect-ports", "--config", "PORTCULLIS_LISTEN"] {
                #expect(top.output.contains(word), "portcullis --help does not mention \(word)")
            }
        }

        @Test func badValuesAreRefusedNamingTheSetting() throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let cases: [([String], [String: String], String)] = [
                (["--listen", "::1:3128"], [:], "listen"),
                (["--listen", "127.0.0.1:99999"], [:], "listen"),
                (["--connect-ports", "443,https"], [:], "connect-ports"),
                (["--allow-client", "10.0.0.0/33"], [:], "allow-clients"),
                (["--forwarded-for", "sometimes"], [:], "forwarded-for"),
                ([], ["PORTCULLIS_IDLE_TIMEOUT": "soon"], "idle-timeout"),
                ([], ["PORTCULLIS_IDLE_TIMEOUT": ""], "idle-timeout"),
                ([], ["PORTCULLIS_MAX_HEADER_BYTES": "10"], "max-header-bytes"),
                (["--icap-service", "reqmod http://127.0.0.1/echo"], [:], "icap-services"),
                ([], ["PORTCULLIS_ICAP_SERVICES": "reqmod icap://127.0.0.1/echo bypass=maybe"], "icap-services"),
                (["--icap-service", "options icap://127.0.0.1/echo"], [:], "icap-services"),
            ]
            for (arguments, environment, key) in cases {
                let result = try Subprocess.run(
                    PortcullisBinary.path, ["run", "--data-dir", scratch.path] + arguments,
                    environment: PortcullisBinary.environment(environment),
                    timeout: 20)
                // Refused as a bad flag is, wherever the value came from: exit status 64 (EX_USAGE)
                // and the usage of `run`.
                #expect(result.status == 64, "\(arguments) \(environment): status \(result.status)")
                #expect(result.stderr.contains("'\(key)'"), "\(arguments) \(environment): \(result.stderr)")
                #expect(
                    result.stderr.contains("Usage: portcullis run "), "\(arguments) \(environment): \(result.stderr)")
            }
        }

        @Test func aListenerThatCannotBeOpenedIsNamedWithTheSystemsReason() throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let port = try FreePort.pick()
            // 192.0.2.1 (TEST-NET-1) is no address of this machine.
            for (arguments, message) in [
                (["--listen", "192.0.2.1:\(port)"], "cannot listen on 192.0.2.1:\(port) (listen): Cannot assign"),
                (
                    ["--listen", "127.0.0.1:\(port)", "--icap-listen", "192.0.2.1:1344"],
                    "cannot listen on 192.0.2.1:1344 (icap-listen): Cannot assign"
                ),
                (
                    ["--listen", "no-such-host.invalid:\(port)"],
                    "cannot listen on no-such-host.invalid:\(port) (listen): the host does not resolve"
                ),
            ] {
                let result = try PortcullisBinary.run(["run", "--data-dir", scratch.path] + arguments, timeout: 20)
                #expect(result.status == 1, "\(arguments)")
                #expect(result.stderr.contains("Error: \(message)"), "\(arguments): \(result.stderr)")
            }
        }

        @Test func aConfigFileThatCannotBeUsedIsRefusedSayingWhy() throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            for (name, contents) in [
                ("broken.json", "{ \"listen\": ["), ("empty.json", ""), ("list.json", "[\"listen\"]"),
                ("toml.json", "listen = \"127.0.0.1:3128\""),
                ("typo.json", "{\"listen\": [\"127.0.0.1:3128\"], \"idle_timeout\": 5}"),
                ("number.json", "{\"listen\": 5}"), ("text.json", "{\"log-level\": 5}"),
            ] {
                try scratch.write(name, Data(contents.utf8))
            }
            try FileManager.default.createDirectory(
                atPath: scratch.file("directory.json"), withIntermediateDirectories: true)
            for (name, message) in [
                ("broken.json", "configuration file '\(scratch.file("broken.json"))': not valid JSON: "),
                ("empty.json", "configuration file '\(scratch.file("empty.json"))': not valid JSON: "),
                ("list.json", "expected one JSON object of settings"),
                ("toml.json", "not valid JSON: invalid value around"),
                // A misspelt key is not left to its default without a word.
                (
                    "typo.json",
                    "no setting is named 'idle_timeout' (did you mean 'idle-timeout'?); the settings are listen,"
                ),
                ("number.json", "setting 'listen': expected a string or a list of strings"),
                ("text.json", "setting 'log-level': expected a string"),
                ("missing.json", "configuration file '\(scratch.file("missing.json"))': No such file or directory"),
                ("directory.json", "configuration file '\(scratch.file("directory.json"))': not a regular file"),
            ] {
                let result = try Subprocess.run(
                    PortcullisBinary.path, ["run", "--config", scratch.file(name), "--data-dir", scratch.path],
                    environment: PortcullisBinary.environment([:]), timeout: 20)
                #expect(result.status == 64, "\(name)")
                #expect(result.stderr.contains("Error: "), "\(name): \(result.stderr)")
                #expect(result.stderr.contains(message), "\(name): \(result.stderr)")
                #expect(result.stderr.contains("Usage: portcullis run "), "\(name)")
            }
            // Every setting the help names is one the file may use.
            let help = try PortcullisBinary.run(["run", "--help"])
            let typo = try Subprocess.run(
                PortcullisBinary.path, ["run", "--config", scratch.file("typo.json"), "--data-dir", scratch.path],
                environment: PortcullisBinary.environment([:]), timeout: 20)
            let named = help.output.split(separator: "\n").compactMap { line -> String? in
                let words = line.split(separator: " ")
                guard words.count == 3, words[0].hasPrefix("--"), words[2].hasPrefix("PORTCULLIS_") else { return nil }
                return String(words[1])
            }
            #expect(named.count == 21, "\(named)")
            for key in named { #expect(typo.stderr.contains(key), "\(key)") }
        }

        @Test func environmentConfiguresTheProxyAndSIGTERMStopsItCleanly() async throws {
            let nginx = try Nginx()
            defer { nginx.stop() }
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            try nginx.writeFile("env", Data("from the environment".utf8))
            let port = try FreePort.pick()
            let dataDir = scratch.file("state/var")
            let (status, output) = try await PortcullisBinary.withRunning(
                ["--data-dir", dataDir],
                environment: [
                    "PORTCULLIS_LISTEN": "127.0.0.1:\(port)", "PORTCULLIS_ACCESS_LOG": "stdout",
                    "PORTCULLIS_IDLE_TIMEOUTS": "5",
                ], port: port, scratch: scratch
            ) { _ in
                let response = try Curl(proxy: "http://127.0.0.1:\(port)").get(nginx.base + "/env", directory: scratch)
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == "from the environment")
            }
            #expect(status == 0)
            #expect(output.contains("TCP_MISS/200 20 GET \(nginx.base)/env"))
            #expect(FileManager.default.fileExists(atPath: dataDir))
            // A variable that names no setting is not read, and the log says so.
            #expect(
                output.contains(
                    "warning portcullis: nearest=idle-timeout variable=PORTCULLIS_IDLE_TIMEOUTS [portcullis] environment variable names no setting"
                ), "\(output)")
        }

        @Test func aPageTemplateThatCannotBeSeededIsNamedInAWarning() async throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            try FileManager.default.createDirectory(atPath: scratch.file("pages"), withIntermediateDirectories: true)
            try scratch.write("pages/block.html", Data("<p>{{url}}</p>".utf8))
            try scratch.write("pages/broken.html", Data("<p>\n{{#section}}never closed".utf8))
            let port = try FreePort.pick()
            let (status, output) = try await PortcullisBinary.withRunning(
                [
                    "--listen", "127.0.0.1:\(port)", "--data-dir", scratch.file("var"), "--pages-dir",
                    scratch.file("pages"),
                ], port: port, scratch: scratch
            ) { _ in }
            #expect(status == 0)
            #expect(output.contains("page template not seeded"), "\(output)")
            #expect(
                output.contains("page template 'broken': syntax error: line 2, column 25: a section is not closed"),
                "\(output)")
        }

        @Test func configFileIsReadAndFlagsWinOverIt() async throws {
            let nginx = try Nginx()
            defer { nginx.stop() }
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let port = try FreePort.pick()
            let unusedPort = try FreePort.pick()
            let config = """
                {"listen": ["127.0.0.1:\(unusedPort)"], "connect-ports": [\(nginx.port)], "access-log": "\(scratch.file("file.log"))",
                 "forwarded-for": "delete"}
                """
            try scratch.write("portcullis.json", Data(config.utf8))
            let (status, _) = try await PortcullisBinary.withRunning(
                [
                    "run", "--config", scratch.file("portcullis.json"), "--listen", "127.0.0.1:\(port)", "--data-dir",
                    scratch.path,
                ],
                port: port, scratch: scratch
            ) { _ in
                #expect(!FreePort.accepts(port: unusedPort))
                let curl = Curl(proxy: "http://127.0.0.1:\(port)")
                let tunnelled = try curl.get(nginx.base + "/headers", ["-p"], directory: scratch)
                #expect(tunnelled.status == 200)
                let forwarded = try curl.get(
                    nginx.base + "/headers", ["-H", "X-Forwarded-For: 192.0.2.1"], directory: scratch)
                #expect(!String(decoding: forwarded.body, as: UTF8.self).lowercased().contains("x-forwarded-for"))
            }
            #expect(status == 0)
            let log = (try? String(contentsOfFile: scratch.file("file.log"), encoding: .utf8)) ?? ""
            #expect(log.contains("TCP_TUNNEL/200"))
        }

        @Test func defaultsListenOnIPv4AndIPv6LoopbackWithALogInTheDataDirectory() async throws {
            // The default port 3128 may be taken on a developer machine; the defaults are
            // checked with the port moved by the environment only.
            let nginx = try Nginx()
            defer { nginx.stop() }
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            try nginx.writeFile("d", Data("d".utf8))
            let port = try FreePort.pick()
            let (status, _) = try await PortcullisBinary.withRunning(
                ["--data-dir", scratch.path], environment: ["PORTCULLIS_LISTEN": "127.0.0.1:\(port),[::1]:\(port)"],
                port: port,
                scratch: scratch
            ) { _ in
                let viaIPv6 = try Curl(proxy: "http://[::1]:\(port)").get(nginx.base + "/d", directory: scratch)
                #expect(viaIPv6.status == 200)
            }
            #expect(status == 0)
            let log = (try? String(contentsOfFile: scratch.file("access.log"), encoding: .utf8)) ?? ""
            #expect(log.contains("::1 TCP_MISS/200"))
        }
    }
}
