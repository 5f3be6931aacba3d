import NIOCore

/// One value per event loop of a group, each used only on its own loop: origin pools, access
/// log buffers, policy boxes, ICAP service clients. Built once; reading it takes no lock.
struct PerEventLoop<Value: AnyObject>: @unchecked Sendable {
    // Immutable after init; each value is only touched on its own loop.
    private let values: [ObjectIdentifier: Value]
    /// The loops, in the group's order.
    let loops: [any EventLoop]

    init(group: any EventLoopGroup, make: (any EventLoop) -> Value) {
        var values: [ObjectIdentifier: Value] = [:]
        var loops: [any EventLoop] = []
        for loop in group.makeIterator() {
            values[ObjectIdentifier(loop)] = make(loop)
            loops.append(loop)
        }
        self.values = values
        self.loops = loops
    }

    /// The value of `loop` (a loop of the group, or it is a programming error).
    func value(for loop: any EventLoop) -> Value {
        guard let value = self.values[ObjectIdentifier(loop)] else {
            preconditionFailure("no \(Value.self) for event loop \(loop)")
        }
        return value
    }

    /// Runs `body` with each loop's value on that loop, one loop after the other, and returns
    /// when all have run.
    func onEachLoop(_ body: @escaping @Sendable (Value) -> Void) async {
        for loop in self.loops {
            let table = self
            try? await loop.submit { body(table.value(for: loop)) }.get()
        }
    }

    /// The same without waiting.
    func onEachLoopLater(_ body: @escaping @Sendable (Value) -> Void) {
        for loop in self.loops {
            let table = self
            loop.execute { body(table.value(for: loop)) }
        }
    }
}
