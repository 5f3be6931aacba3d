import Configuration
import Foundation
import ICAP
import Logging
import NIOCore
import Policy
import Proxy

/// The validated settings of `portcullis run`, read through swift-configuration from flags,
/// environment and file. Every malformed value is an error naming its key.
struct Settings {
    /// Every setting's name (its key in the file; as PORTCULLIS_…, its environment variable).
    static let keys = [
        "listen", "data-dir", "icap-listen", "icap-services", "connect-ports", "allow-clients",
        "deny-destinations", "access-log", "pages-dir", "forwarded-for", "max-header-bytes", "max-request-body",
        "max-connections", "header-timeout", "idle-timeout", "connect-timeout", "read-timeout",
        "tunnel-idle-timeout", "shutdown-grace", "threads", "log-level",
    ]

    /// `PORTCULLIS_…` variables that name no setting (`PORTCULLIS_CONFIG` names the file), each
    /// with the key it would be.
    static func unknownEnvironmentVariables(_ environment: [String: String]) -> [(variable: String, key: String)] {
        environment.keys.sorted().compactMap { variable in
            guard variable.hasPrefix("PORTCULLIS_"), variable != "PORTCULLIS_CONFIG" else { return nil }
            let key = variable.dropFirst("PORTCULLIS_".count).lowercased().replacingOccurrences(of: "_", with: "-")
            return Self.keys.contains(key) ? nil : (variable, key)
        }
    }

    var proxy = ProxyConfiguration()
    var dataDirectory: String
    var pagesDirectory: String?
    var logLevel: Logger.Level = .info

    init(reader: ConfigReader) async throws {
        let settings = SettingsReader(reader: reader)

        self.dataDirectory = try await settings.string("data-dir") ?? "./var"
        do {
            try FileManager.default.createDirectory(atPath: self.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw SettingsError(
                key: "data-dir", problem: "cannot create '\(self.dataDirectory)': \(error.localizedDescription)")
        }

        if let listen = try await settings.list("listen") {
            self.proxy.listen = try listen.map { entry in
                try settings.parse("listen", entry) { try HostAndPort(parsing: $0) }
            }
            if self.proxy.listen.isEmpty {
                throw SettingsError(key: "listen", problem: "at least one address is needed")
            }
        }
        if let listen = try await settings.list("icap-listen") {
            self.proxy.icapListen = try listen.map { entry in
                try settings.parse("icap-listen", entry) { try HostAndPort(parsing: $0) }
            }
        }
        if let services = try await settings.list("icap-services") {
            self.proxy.icapServices = try services.map { entry in
                try settings.parse("icap-services", entry) { try ICAPServiceConfiguration(parsing: $0) }
            }
        }
        if let ports = try await settings.list("connect-ports") {
            self.proxy.connectPorts = Set(
                try ports.map { text in
                    guard let port = Int(text), (1...65535).contains(port) else {
                        throw SettingsError(key: "connect-ports", problem: "'\(text)' is not a port number 1…65535")
                    }
                    return port
                })
        }
        if let networks = try await settings.list("allow-clients") {
            self.proxy.allowedClients = try networks.map { text in
                try settings.parse("allow-clients", text) { try IPNetwork(parsing: $0) }
            }
        }
        if let networks = try await settings.list("deny-destinations") {
            self.proxy.deniedDestinations = try networks.map { text in
                try settings.parse("deny-destinations", text) { try IPNetwork(parsing: $0) }
            }
        }
        switch try await settings.string("access-log") {
        case nil: self.proxy.accessLog = .file(self.dataDirectory + "/access.log")
        case "off", "none": self.proxy.accessLog = .off
        case "stdout", "-": self.proxy.accessLog = .stdout
        case let path?: self.proxy.accessLog = .file(path)
        }
        if let mode = try await settings.string("forwarded-for") {
            guard let parsed = ForwardedForMode(rawValue: mode) else {
                throw SettingsError(
                    key: "forwarded-for", problem: "'\(mode)' is not one of append, transparent, delete")
            }
            self.proxy.forwardedFor = parsed
        }
        if let value = try await settings.int("max-header-bytes", range: 1024...(1 << 20)) {
            self.proxy.maxHeaderBytes = value
        }
        if let value = try await settings.int("max-request-body", range: 0...Int.max) {
            self.proxy.maxRequestBodyBytes = Int64(value)
        }
        if let value = try await settings.int("max-connections", range: 1...1_000_000) {
            self.proxy.maxClientConnections = value
        }
        if let value = try await settings.seconds("header-timeout") { self.proxy.headerTimeout = value }
        if let value = try await settings.seconds("idle-timeout") { self.proxy.idleTimeout = value }
        if let value = try await settings.seconds("connect-timeout") { self.proxy.connectTimeout = value }
        if let value = try await settings.seconds("read-timeout") { self.proxy.originReadTimeout = value }
        if let value = try await settings.seconds("tunnel-idle-timeout") { self.proxy.tunnelIdleTimeout = value }
        if let value = try await settings.seconds("shutdown-grace", allowZero: true) {
            self.proxy.shutdownGracePeriod = value
        }
        if let value = try await settings.int("threads", range: 1...256) { self.proxy.threads = value }
        if let level = try await settings.string("log-level") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw SettingsError(key: "log-level", problem: "'\(level)' is not a log level")
            }
            self.logLevel = parsed
        }
        self.pagesDirectory = try await settings.string("pages-dir") ?? Self.defaultPagesDirectory()
    }

    /// `share/pages` in the current directory, or beside the executable's package checkout.
    private static func defaultPagesDirectory() -> String? {
        var candidates = ["share/pages"]
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("share/pages").path)
            directory = directory.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}

/// A setting with a value that cannot be used.
struct SettingsError: Error, CustomStringConvertible {
    let key: String
    let problem: String
    var description: String { "setting '\(self.key)': \(self.problem)" }
}

/// Typed access to configuration keys with errors that name the key.
private struct SettingsReader {
    let reader: ConfigReader

    func string(_ key: String) async throws -> String? {
        assert(Settings.keys.contains(key), "'\(key)' is missing from Settings.keys")
        do {
            return try await self.reader.fetchString(forKey: ConfigKey(key))
        } catch {
            throw SettingsError(key: key, problem: "expected a string (\(error))")
        }
    }

    /// A list: an array in the file, or one comma-separated string anywhere.
    func list(_ key: String) async throws -> [String]? {
        assert(Settings.keys.contains(key), "'\(key)' is missing from Settings.keys")
        if let array = try? await self.reader.fetchStringArray(forKey: ConfigKey(key)) {
            return array.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        }
        if let ints = try? await self.reader.fetchIntArray(forKey: ConfigKey(key)) {
            return ints.map(String.init)
        }
        let text: String?
        do {
            text = try await self.reader.fetchString(forKey: ConfigKey(key))
        } catch {
            throw SettingsError(key: key, problem: "expected a string or a list of strings (\(error))")
        }
        guard let text else { return nil }
        return text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func int(_ key: String, range: ClosedRange<Int>) async throws -> Int? {
        assert(Settings.keys.contains(key), "'\(key)' is missing from Settings.keys")
        let value: Int?
        do {
            value = try await self.reader.fetchInt(forKey: ConfigKey(key))
        } catch {
            throw SettingsError(key: key, problem: "expected a whole number (\(error))")
        }
        if let value, !range.contains(value) {
            throw SettingsError(key: key, problem: "\(value) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    func seconds(_ key: String, allowZero: Bool = false) async throws -> TimeAmount? {
        try await self.int(key, range: (allowZero ? 0 : 1)...86_400 * 7).map { TimeAmount.seconds(Int64($0)) }
    }

    func parse<T>(_ key: String, _ text: String, _ parser: (String) throws -> T) throws -> T {
        do {
            return try parser(text)
        } catch {
            throw SettingsError(key: key, problem: "\(error)")
        }
    }
}
