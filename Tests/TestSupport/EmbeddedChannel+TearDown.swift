import NIOEmbedded

extension EmbeddedChannel {
    /// Ends a test's channel in whatever state the test left it: closed, unless its handlers
    /// closed it already, then the tasks closing left on its loop are run. That takes the
    /// pipeline down, so nothing its handlers hold outlives the test (scripts/test-asan checks
    /// for leaks). A plain `finish()` on a channel that is already closed throws before it
    /// runs those tasks.
    public func tearDown() {
        _ = try? self.finish(acceptAlreadyClosed: true)
    }
}
