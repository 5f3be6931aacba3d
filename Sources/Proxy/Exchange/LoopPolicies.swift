import NIOCore
import Policy

/// The policy snapshot each event loop decides with. Each loop has its own box, read and
/// written only on that loop: a new snapshot is handed to every loop as a task, so the hot
/// path reads a plain stored property (no lock, no atomic).
final class LoopPolicies: @unchecked Sendable {
    // Immutable after init; each box is only touched on its own loop.
    private let boxes: [ObjectIdentifier: LoopPolicy]
    private let loops: [any EventLoop]

    init(group: any EventLoopGroup, initial: PolicySnapshot) {
        var boxes: [ObjectIdentifier: LoopPolicy] = [:]
        var loops: [any EventLoop] = []
        for loop in group.makeIterator() {
            boxes[ObjectIdentifier(loop)] = LoopPolicy(initial)
            loops.append(loop)
        }
        self.boxes = boxes
        self.loops = loops
    }

    func policy(for loop: any EventLoop) -> LoopPolicy {
        loop.preconditionInEventLoop()
        guard let box = self.boxes[ObjectIdentifier(loop)] else {
            preconditionFailure("no policy box for event loop \(loop)")
        }
        return box
    }

    /// Swaps `snapshot` in on every loop; requests already decided keep the one they had.
    /// Returns once every loop has it.
    func publish(_ snapshot: PolicySnapshot) async {
        for loop in self.loops {
            let box = self.boxes[ObjectIdentifier(loop)]!
            try? await loop.submit { box.snapshot = snapshot }.get()
        }
    }
}

/// One loop's current snapshot.
final class LoopPolicy: @unchecked Sendable {
    // Read and written only on its own event loop (publish hops there first).
    var snapshot: PolicySnapshot

    init(_ snapshot: PolicySnapshot) { self.snapshot = snapshot }
}
