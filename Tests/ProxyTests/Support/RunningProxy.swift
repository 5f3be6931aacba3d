import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Policy

@testable import Proxy

/// Proxies started and not yet stopped, by the test that started them: integration tests run
/// one at a time, so a second live proxy means a test leaked one (its threads would keep the
/// test process from exiting).
let liveProxies = NIOLockedValueBox<[String]>([])

/// A `ProxyServer` running inside the test process on ephemeral loopback ports.
final class RunningProxy {
    let label: String
    let server: ProxyServer
    let directory: TemporaryDirectory
    let port: Int
    let portIPv6: Int?
    /// The policy the proxy decides with (an in-memory database seeded like a fresh install).
    let store: PolicyStore

    var url: String { "http://127.0.0.1:\(self.port)" }
    var curl: Curl { Curl(proxy: self.url) }
    var accessLogPath: String { self.directory.file("access.log") }

    static var pagesDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/pages").path
    }

    init(
        policy: PolicyStore? = nil, _ configure: (inout ProxyConfiguration) -> Void = { _ in },
        label: String = #function
    ) async throws {
        self.label = label
        self.directory = try TemporaryDirectory()
        var configuration = ProxyConfiguration()
        configuration.listen = [HostAndPort(host: "127.0.0.1", port: 0), HostAndPort(host: "::1", port: 0)]
        configuration.accessLog = .file(self.directory.file("access.log"))
        configuration.threads = 2
        configuration.shutdownGracePeriod = .seconds(5)
        configure(&configuration)
        self.store = try policy ?? PolicyStore.inMemory(pagesDirectory: Self.pagesDirectory)
        var logger = Logger(label: "test.proxy")
        logger.logLevel = .warning
        self.server = ProxyServer(
            configuration: configuration, policy: try SnapshotCompiler.compile(self.store), logger: logger)
        liveProxies.withLockedValue { $0.append(label) }
        do {
            try await self.server.start()
        } catch {
            await self.server.shutdown()
            liveProxies.withLockedValue { $0.removeAll { $0 == label } }
            throw error
        }
        self.port = self.server.boundAddresses.first { $0.protocol == .inet }?.port ?? 0
        self.portIPv6 = self.server.boundAddresses.first { $0.protocol == .inet6 }?.port
    }

    /// Compiles the store and hands the snapshot to the proxy (what the reloader does).
    func reloadPolicy() async throws {
        await self.server.publish(try SnapshotCompiler.compile(self.store))
    }

    func stop() async {
        await self.shutdownKeepingFiles()
        self.directory.remove()
    }

    /// Shuts the proxy down but keeps its directory (the access log) for the test to read.
    func shutdownKeepingFiles() async {
        await self.server.shutdown()
        let label = self.label
        liveProxies.withLockedValue { list in
            if let index = list.firstIndex(of: label) { list.remove(at: index) }
        }
    }

    /// The access log so far (flushed on shutdown, or within 100 ms while running).
    func accessLog() -> String {
        (try? String(contentsOfFile: self.accessLogPath, encoding: .utf8)) ?? ""
    }
}
