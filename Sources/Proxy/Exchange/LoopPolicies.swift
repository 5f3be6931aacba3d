import NIOCore
import Policy

/// The policy snapshot each event loop decides with. Each loop has its own box, read and
/// written only on that loop: a new snapshot is handed to every loop as a task, so the hot
/// path reads a plain stored property (no lock, no atomic).
struct LoopPolicies: Sendable {
    private let boxes: PerEventLoop<LoopPolicy>

    init(group: any EventLoopGroup, initial: PolicySnapshot) {
        self.boxes = PerEventLoop(group: group) { _ in LoopPolicy(initial) }
    }

    func policy(for loop: any EventLoop) -> LoopPolicy {
        loop.preconditionInEventLoop()
        return self.boxes.value(for: loop)
    }

    /// Swaps `snapshot` in on every loop; requests already decided keep the one they had.
    /// Returns once every loop has it.
    func publish(_ snapshot: PolicySnapshot) async {
        await self.boxes.onEachLoop { $0.snapshot = snapshot }
    }
}

/// One loop's current snapshot.
final class LoopPolicy: @unchecked Sendable {
    // Read and written only on its own event loop (publish hops there first).
    var snapshot: PolicySnapshot

    init(_ snapshot: PolicySnapshot) { self.snapshot = snapshot }
}
