import Foundation
import Logging
import NIOCore
import Policy

@testable import Proxy

/// A `ProxyServer` running inside the test process on ephemeral loopback ports.
final class RunningProxy {
    let server: ProxyServer
    let directory: TemporaryDirectory
    let port: Int
    let portIPv6: Int?

    var url: String { "http://127.0.0.1:\(self.port)" }
    var curl: Curl { Curl(proxy: self.url) }
    var accessLogPath: String { self.directory.file("access.log") }

    static var pagesDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/pages").path
    }

    init(_ configure: (inout ProxyConfiguration) -> Void = { _ in }) async throws {
        self.directory = try TemporaryDirectory()
        var configuration = ProxyConfiguration()
        configuration.listen = [HostAndPort(host: "127.0.0.1", port: 0), HostAndPort(host: "::1", port: 0)]
        configuration.accessLog = .file(self.directory.file("access.log"))
        configuration.threads = 2
        configuration.shutdownGracePeriod = .seconds(5)
        configure(&configuration)
        let (pages, refused) = try PageCatalog.load(directory: Self.pagesDirectory)
        precondition(refused.isEmpty, "shipped page templates must load: \(refused)")
        var logger = Logger(label: "test.proxy")
        logger.logLevel = .warning
        self.server = ProxyServer(configuration: configuration, pages: pages, logger: logger)
        try await self.server.start()
        self.port = self.server.boundAddresses.first { $0.protocol == .inet }?.port ?? 0
        self.portIPv6 = self.server.boundAddresses.first { $0.protocol == .inet6 }?.port
    }

    func stop() async {
        await self.server.shutdown()
        self.directory.remove()
    }

    /// The access log so far (flushed on shutdown, or within 100 ms while running).
    func accessLog() -> String {
        (try? String(contentsOfFile: self.accessLogPath, encoding: .utf8)) ?? ""
    }
}
