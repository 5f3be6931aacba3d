import ArgumentParser
import Configuration
import Foundation
import Logging
import Policy
import Proxy
import ServiceLifecycle

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the proxy (the default command).",
        discussion: Self.settingsHelp
    )

    /// The settings, documented for `portcullis --help` and `portcullis run --help` alike.
    static let settingsHelp = """
        Every setting can be given, from highest priority to lowest: as a flag, as an \
        environment variable PORTCULLIS_<NAME> (upper case, '-' becomes '_', lists are \
        comma-separated: PORTCULLIS_LISTEN=127.0.0.1:3128,[::1]:3128), or as a key of the \
        JSON configuration file named by --config ({"listen": ["0.0.0.0:3128"], \
        "connect-ports": [443, 8443]}). Durations are whole seconds.

        Settings (flag / file key / environment variable):
          --listen           listen            PORTCULLIS_LISTEN
          --data-dir         data-dir          PORTCULLIS_DATA_DIR
          --icap-listen      icap-listen       PORTCULLIS_ICAP_LISTEN
          --icap-service     icap-services     PORTCULLIS_ICAP_SERVICES
          --connect-ports    connect-ports     PORTCULLIS_CONNECT_PORTS
          --allow-client     allow-clients     PORTCULLIS_ALLOW_CLIENTS
          --deny-destination deny-destinations PORTCULLIS_DENY_DESTINATIONS
          --access-log       access-log        PORTCULLIS_ACCESS_LOG
          --pages-dir        pages-dir         PORTCULLIS_PAGES_DIR
          --forwarded-for    forwarded-for     PORTCULLIS_FORWARDED_FOR
          --max-header-bytes max-header-bytes  PORTCULLIS_MAX_HEADER_BYTES
          --max-request-body max-request-body  PORTCULLIS_MAX_REQUEST_BODY
          --max-connections  max-connections   PORTCULLIS_MAX_CONNECTIONS
          --header-timeout   header-timeout    PORTCULLIS_HEADER_TIMEOUT
          --idle-timeout     idle-timeout      PORTCULLIS_IDLE_TIMEOUT
          --connect-timeout  connect-timeout   PORTCULLIS_CONNECT_TIMEOUT
          --read-timeout     read-timeout      PORTCULLIS_READ_TIMEOUT
          --tunnel-idle-timeout tunnel-idle-timeout PORTCULLIS_TUNNEL_IDLE_TIMEOUT
          --shutdown-grace   shutdown-grace    PORTCULLIS_SHUTDOWN_GRACE
          --threads          threads           PORTCULLIS_THREADS
          --log-level        log-level         PORTCULLIS_LOG_LEVEL
        """

    @Option(
        name: .customLong("listen"),
        help:
            "Address to accept clients on, HOST:PORT or [IPv6]:PORT; repeatable. Default: 127.0.0.1:3128 and [::1]:3128."
    )
    var listen: [String] = []

    @Option(
        name: .customLong("icap-listen"),
        help:
            "Also serve ICAP on HOST:PORT (e.g. 127.0.0.1:1344): icap://HOST:PORT/reqmod and /respmod for Squid; repeatable. Default: off."
    )
    var icapListen: [String] = []

    @Option(
        name: .customLong("icap-service"),
        help:
            "A remote ICAP service, 'reqmod|respmod icap://HOST[:PORT]/SERVICE [bypass=on|off] [preview=N] [name=NAME]': reqmod services see each request before it is forwarded, respmod services each response as it streams back; repeatable, in chain order. Default: none."
    )
    var icapServices: [String] = []

    @Option(help: "Directory for the database, the access log and other state; created if missing. Default: ./var.")
    var dataDir: String?

    @Option(help: "Comma-separated destination ports CONNECT may reach. Default: 443.")
    var connectPorts: String?

    @Option(help: "JSON configuration file.")
    var config: String?

    @Option(
        name: .customLong("allow-client"),
        help:
            "Client network allowed to use the proxy (CIDR); repeatable. Default: 127.0.0.0/8, ::1, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7."
    )
    var allowClients: [String] = []

    @Option(
        name: .customLong("deny-destination"),
        help: "Destination network the proxy never connects to (CIDR); repeatable.")
    var denyDestinations: [String] = []

    @Option(help: "Access log (Squid native format): a file path, 'stdout' or 'off'. Default: <data-dir>/access.log.")
    var accessLog: String?

    @Option(
        help:
            "Directory of page templates. Default: share/pages (found next to the current directory or the executable)."
    )
    var pagesDir: String?

    @Option(help: "X-Forwarded-For handling: append, transparent or delete. Default: append.")
    var forwardedFor: String?

    @Option(help: "Largest request head in bytes (beyond: 431). Default: 65536.")
    var maxHeaderBytes: Int?

    @Option(help: "Largest request body in bytes, 0 for no limit (beyond: 413). Default: 0.")
    var maxRequestBody: Int?

    @Option(help: "Client connections served at once; accepting pauses at the limit. Default: 10000.")
    var maxConnections: Int?

    @Option(help: "Seconds a client has to send a complete request head. Default: 30.")
    var headerTimeout: Int?

    @Option(help: "Seconds an idle keep-alive client connection is kept. Default: 60.")
    var idleTimeout: Int?

    @Option(help: "Seconds allowed to connect to an origin. Default: 10.")
    var connectTimeout: Int?

    @Option(help: "Seconds an origin may stay silent during an exchange (beyond: 504). Default: 60.")
    var readTimeout: Int?

    @Option(help: "Seconds a tunnel may stay idle. Default: 600.")
    var tunnelIdleTimeout: Int?

    @Option(help: "Seconds in-flight exchanges get to finish after SIGTERM/SIGINT. Default: 30.")
    var shutdownGrace: Int?

    @Option(help: "Event loop threads. Default: one per core.")
    var threads: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Default: info.")
    var logLevel: String?

    /// The flags that were given, as configuration values (they beat every other source).
    private var flagValues: [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        func set(_ key: AbsoluteConfigKey, _ content: ConfigContent?) {
            if let content { values[key] = ConfigValue(content, isSecret: false) }
        }
        if !self.listen.isEmpty { set("listen", .stringArray(self.listen)) }
        if !self.icapListen.isEmpty { set("icap-listen", .stringArray(self.icapListen)) }
        if !self.icapServices.isEmpty { set("icap-services", .stringArray(self.icapServices)) }
        set("data-dir", self.dataDir.map(ConfigContent.string))
        set("connect-ports", self.connectPorts.map(ConfigContent.string))
        if !self.allowClients.isEmpty { set("allow-clients", .stringArray(self.allowClients)) }
        if !self.denyDestinations.isEmpty { set("deny-destinations", .stringArray(self.denyDestinations)) }
        set("access-log", self.accessLog.map(ConfigContent.string))
        set("pages-dir", self.pagesDir.map(ConfigContent.string))
        set("forwarded-for", self.forwardedFor.map(ConfigContent.string))
        set("max-header-bytes", self.maxHeaderBytes.map(ConfigContent.int))
        set("max-request-body", self.maxRequestBody.map(ConfigContent.int))
        set("max-connections", self.maxConnections.map(ConfigContent.int))
        set("header-timeout", self.headerTimeout.map(ConfigContent.int))
        set("idle-timeout", self.idleTimeout.map(ConfigContent.int))
        set("connect-timeout", self.connectTimeout.map(ConfigContent.int))
        set("read-timeout", self.readTimeout.map(ConfigContent.int))
        set("tunnel-idle-timeout", self.tunnelIdleTimeout.map(ConfigContent.int))
        set("shutdown-grace", self.shutdownGrace.map(ConfigContent.int))
        set("threads", self.threads.map(ConfigContent.int))
        set("log-level", self.logLevel.map(ConfigContent.string))
        return values
    }

    func run() async throws {
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: self.flagValues),
            EnvironmentVariablesProvider().prefixKeys(with: ["portcullis"]),
        ]
        let configFile = self.config ?? ProcessInfo.processInfo.environment["PORTCULLIS_CONFIG"]
        if let configFile {
            do {
                try ConfigurationFile.check(configFile, knownKeys: Settings.keys)
                providers.append(try await FileProvider<JSONSnapshot>(filePath: .init(configFile)))
            } catch let error as ConfigurationFileError {
                try Self.refuse(error.description)
            } catch {
                try Self.refuse("configuration file '\(configFile)': \(error)")
            }
        }
        let settings: Settings
        do {
            settings = try await Settings(reader: ConfigReader(providers: providers))
        } catch let error as SettingsError {
            try Self.refuse(error.description)
        }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "portcullis")

        // Environment variables are many and not all ours to refuse: one that names no setting
        // is only reported.
        for (variable, key) in Settings.unknownEnvironmentVariables(ProcessInfo.processInfo.environment) {
            var metadata: Logger.Metadata = ["variable": "\(variable)"]
            if let nearest = ConfigurationFile.nearest(to: key, in: Settings.keys) {
                metadata["nearest"] = "\(nearest)"
            }
            logger.warning("environment variable names no setting", metadata: metadata)
        }
        if settings.pagesDirectory == nil {
            logger.warning("no page template directory found to seed the database from, using the built-in page")
        }
        // A database that cannot be opened or read stops the start: never a silent empty policy.
        let store: PolicyStore
        let reloader: PolicyReloader
        let snapshot: PolicySnapshot
        do {
            store = try PolicyStore.open(dataDirectory: settings.dataDirectory)
            if let pagesDirectory = settings.pagesDirectory {
                // A template that is not seeded leaves its page to the error page (or the built-in
                // one): the administrator hears why.
                for problem in try store.seedPages(from: pagesDirectory).refused {
                    logger.warning("page template not seeded", metadata: ["problem": "\(problem)"])
                }
            }
            let proxySlot = ProxySlot()
            reloader = PolicyReloader(store: store, logger: logger) { snapshot in
                await proxySlot.proxy?.publish(snapshot)
            }
            snapshot = try reloader.initialSnapshot()
            let proxy = ProxyServer(configuration: settings.proxy, policy: snapshot, logger: logger)
            proxySlot.proxy = proxy
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        .init(service: proxy),
                        .init(service: PolicyReloadService(reloader: reloader, generation: snapshot.generation)),
                    ],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            try await group.run()
        } catch let error as PolicyStoreError {
            // Not a usage error: the message alone, exit status 1.
            throw CommandFailure(description: error.description)
        }
    }
}

/// The proxy, once made, for the reloader to hand snapshots to.
private final class ProxySlot: @unchecked Sendable {
    // Written once, before the service group starts the reloader.
    var proxy: ProxyServer?
}
