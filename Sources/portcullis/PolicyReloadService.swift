import Policy
import ServiceLifecycle
import UnixSignals

/// Runs the policy reloader beside the proxy, and reloads at once on SIGHUP.
struct PolicyReloadService: Service {
    let reloader: PolicyReloader
    let generation: Int64

    func run() async throws {
        let reloader = self.reloader
        let generation = self.generation
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) { reloader.reloadNow() }
                }
                group.addTask { await reloader.run(from: generation) }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
