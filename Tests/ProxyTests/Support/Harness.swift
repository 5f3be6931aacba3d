import Foundation
import ICAP
import Testing

@testable import Proxy

/// Every suite that starts servers nests in here: one at a time, so the two cores are not
/// shared by several proxies, origins and curls at once.
@Suite(.serialized) enum Integration {}

/// Runs blocking work (a curl, a raw socket) on its own thread, so the test's async context
/// — and Swift's small cooperative pool — is never blocked by it.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Runs `body` with a fresh proxy, a fresh nginx origin and a scratch directory, and tears
/// all three down whatever happens.
func withProxyAndNginx(
    _ configure: (inout ProxyConfiguration) -> Void = { _ in },
    label: String = #function,
    _ body: (RunningProxy, Nginx, TemporaryDirectory) async throws -> Void
) async throws {
    let leaked = liveProxies.withLockedValue { $0 }
    #expect(leaked.isEmpty, "proxies left running by earlier tests: \(leaked)")
    let nginx = try Nginx()
    defer { nginx.stop() }
    let scratch = try TemporaryDirectory()
    defer { scratch.remove() }
    let proxy = try await RunningProxy(configure, label: label)
    do {
        try await body(proxy, nginx, scratch)
    } catch {
        await proxy.stop()
        throw error
    }
    await proxy.stop()
}

/// Polls (bounded) until `condition` holds; returns whether it did. Not a timing assertion:
/// the bound only stops a broken test from hanging.
func eventually(seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return condition()
}

/// Two proxies and an nginx: a Portcullis serving ICAP whose policy denies `denied`, and a
/// Portcullis using it as its `method` service (`reqmod` or `respmod`, `bypass=off`, named
/// `pc`). `body` gets the second one.
func withFilteringPortcullis(
    _ method: String, denied: [String], label: String = #function,
    _ body: (RunningProxy, Nginx, TemporaryDirectory) async throws -> Void
) async throws {
    let nginx = try Nginx()
    defer { nginx.stop() }
    let scratch = try TemporaryDirectory()
    defer { scratch.remove() }
    let filter = try await RunningProxy(
        { $0.icapListen = [HostAndPort(host: "127.0.0.1", port: 0)] }, label: label + "-filter")
    let service: ICAPServiceConfiguration
    let proxy: RunningProxy
    do {
        _ = try filter.store.addEntries(denied, to: "deny", actor: "test")
        try await filter.reloadPolicy()
        let port = filter.server.boundICAPAddresses.first?.port ?? 0
        service = try ICAPServiceConfiguration(
            parsing: "\(method) icap://127.0.0.1:\(port)/\(method) bypass=off name=pc")
        proxy = try await RunningProxy({ $0.icapServices = [service] }, label: label)
    } catch {
        await filter.stop()
        throw error
    }
    do {
        try await body(proxy, nginx, scratch)
    } catch {
        await proxy.stop()
        await filter.stop()
        throw error
    }
    await proxy.stop()
    await filter.stop()
}
