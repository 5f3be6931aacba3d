import Foundation
import Logging

/// Keeps a running proxy's snapshot in step with the store: it checks the store's generation
/// a few times a second (changes from the admin UI, `portcullis policy …` in another process,
/// an import) and recompiles on demand (SIGHUP), off the event loops. A compile that fails
/// leaves the current snapshot serving and logs why.
public final class PolicyReloader: Sendable {
    private let store: PolicyStore
    private let interval: Duration
    private let logger: Logger
    private let publish: @Sendable (PolicySnapshot) async -> Void
    private let requests: AsyncStream<Void>
    private let requestContinuation: AsyncStream<Void>.Continuation

    public init(
        store: PolicyStore, interval: Duration = .milliseconds(250), logger: Logger,
        publish: @escaping @Sendable (PolicySnapshot) async -> Void
    ) {
        self.store = store
        self.interval = interval
        self.logger = logger
        self.publish = publish
        (self.requests, self.requestContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Compiles the store now, whatever its generation (SIGHUP).
    public func reloadNow() { self.requestContinuation.yield() }

    /// Compiles a first snapshot; the proxy starts with it. Throws (and the proxy does not
    /// start) if the policy cannot be read: never a silent empty policy.
    public func initialSnapshot() throws(PolicyStoreError) -> PolicySnapshot {
        let started = ContinuousClock.now
        let snapshot = try SnapshotCompiler.compile(self.store)
        self.logCompiled(snapshot, since: started)
        return snapshot
    }

    /// Watches until the task is cancelled, starting from `generation`.
    public func run(from generation: Int64) async {
        var current = generation
        await withTaskGroup(of: Void.self) { group in
            let (ticks, tickContinuation) = AsyncStream<Bool>.makeStream(bufferingPolicy: .bufferingNewest(1))
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.interval)
                    tickContinuation.yield(false)
                }
                tickContinuation.finish()
            }
            group.addTask {
                for await _ in self.requests { tickContinuation.yield(true) }
            }
            for await forced in ticks {
                if Task.isCancelled { break }
                guard let generation = try? self.store.generation() else { continue }
                guard forced || generation != current else { continue }
                let started = ContinuousClock.now
                do {
                    let snapshot = try await self.compileOnItsOwnThread()
                    current = snapshot.generation
                    await self.publish(snapshot)
                    self.logCompiled(snapshot, since: started)
                } catch {
                    current = generation
                    self.logger.error(
                        "policy compile failed, the previous policy stays in force",
                        metadata: ["generation": "\(generation)", "error": "\(error)"])
                }
            }
            self.requestContinuation.finish()
            group.cancelAll()
        }
    }

    /// Compiles on a thread of its own: a big policy takes a second or more of CPU, which must
    /// not hold one of the few threads Swift concurrency's shared pool has.
    private func compileOnItsOwnThread() async throws(PolicyStoreError) -> PolicySnapshot {
        let store = self.store
        let result: Result<PolicySnapshot, PolicyStoreError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    returning: Result { () throws(PolicyStoreError) in try SnapshotCompiler.compile(store) })
            }
        }
        return try result.get()
    }

    private func logCompiled(_ snapshot: PolicySnapshot, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        self.logger.info(
            "policy loaded",
            metadata: [
                "generation": "\(snapshot.generation)", "entries": "\(snapshot.entryCount)",
                "milliseconds":
                    "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
            ])
    }
}
