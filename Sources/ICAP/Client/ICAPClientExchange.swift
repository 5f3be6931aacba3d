import NIOCore

/// One ICAP request as the client sends it: the head, the encapsulated heads and, when they
/// say so, the whole body (the client sends `Preview` bytes of it first if the head asks).
public struct ICAPClientRequest: Sendable {
    public var head: ICAPRequestHead
    public var heads: ICAPEncapsulatedHeads
    public var body: ByteBuffer?

    public init(head: ICAPRequestHead, heads: ICAPEncapsulatedHeads, body: ByteBuffer? = nil) {
        self.head = head
        self.heads = heads
        self.body = body
    }
}

/// The final answer to an ICAP request, its body gathered.
public struct ICAPClientResponse: Sendable {
    public var head: ICAPResponseHead
    public var heads: ICAPEncapsulatedHeads
    public var body: ByteBuffer

    public init(head: ICAPResponseHead, heads: ICAPEncapsulatedHeads, body: ByteBuffer) {
        self.head = head
        self.heads = heads
        self.body = body
    }
}
