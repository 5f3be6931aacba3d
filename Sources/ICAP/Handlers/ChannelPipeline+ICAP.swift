import NIOCore

extension ChannelPipeline.SynchronousOperations {
    /// Adds the handlers of an ICAP client: an ``ICAPRequestEncoder`` and, after it, an
    /// ``ICAPResponseDecoder`` that learns each request's method from the parts written.
    /// Write ``ICAPRequestPart``s, read ``ICAPResponsePart``s.
    public func addICAPClientHandlers(maxHeaderBytes: Int = 64 * 1024) throws {
        try self.addHandler(ICAPRequestEncoder())
        try self.addHandler(ByteToMessageHandler(ICAPResponseDecoder(maxHeaderBytes: maxHeaderBytes)))
    }

    /// Adds the handlers of an ICAP server: an ``ICAPResponseEncoder`` and, after it, an
    /// ``ICAPRequestDecoder`` that learns from the responses written whether a preview continues.
    /// Read ``ICAPRequestPart``s, write ``ICAPResponsePart``s.
    public func addICAPServerHandlers(maxHeaderBytes: Int = 64 * 1024) throws {
        try self.addHandler(ICAPResponseEncoder())
        try self.addHandler(ByteToMessageHandler(ICAPRequestDecoder(maxHeaderBytes: maxHeaderBytes)))
    }
}
