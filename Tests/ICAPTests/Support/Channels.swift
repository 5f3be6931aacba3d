import NIOCore
import NIOEmbedded
import TestSupport

@testable import ICAP

/// An EmbeddedChannel with the ICAP server handlers: requests in, responses out.
func serverChannel(maxHeaderBytes: Int = 64 * 1024) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addICAPServerHandlers(maxHeaderBytes: maxHeaderBytes)
    return channel
}

/// An EmbeddedChannel with the ICAP client handlers: requests out, responses in.
func clientChannel(maxHeaderBytes: Int = 64 * 1024) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addICAPClientHandlers(maxHeaderBytes: maxHeaderBytes)
    return channel
}

/// An EmbeddedChannel with only a response decoder that expects responses to `methods`.
func responseDecoderChannel(expecting methods: [ICAPMethod], maxHeaderBytes: Int = 64 * 1024) -> EmbeddedChannel {
    EmbeddedChannel(
        handler: ByteToMessageHandler(ICAPResponseDecoder(maxHeaderBytes: maxHeaderBytes, expecting: methods)))
}

/// Decodes `text` as responses to `methods`, fed whole or a byte at a time, and closes the input.
func decodeResponses(_ text: String, to methods: [ICAPMethod], feed: Feed) throws -> [ICAPResponsePart] {
    let channel = responseDecoderChannel(expecting: methods)
    defer { channel.tearDown() }
    try feed.write(text, into: channel)
    let parts = try readParts(channel, as: ICAPResponsePart.self)
    _ = try channel.finish()
    return parts
}

/// Decodes `text` as requests, fed whole or a byte at a time, and closes the input.
///
/// - Parameter answers: if given, the status codes a server answers with, in order, written as
///   the requests are read (``ScriptedAnswerer``), so a stream whose previews continue or not
///   decodes in one go.
func decodeRequests(
    _ text: String, feed: Feed, maxHeaderBytes: Int = 64 * 1024, answers: [Int]? = nil
) throws -> [ICAPRequestPart] {
    let decoder = ICAPRequestDecoder(maxHeaderBytes: maxHeaderBytes)
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(decoder))
    defer { channel.tearDown() }
    if let answers {
        try channel.pipeline.syncOperations.addHandler(ScriptedAnswerer(answers))
    }
    try feed.write(text, into: channel)
    let parts = try readParts(channel, as: ICAPRequestPart.self)
    _ = try channel.finish()
    return parts
}

/// Answers requests as a server would, at the tail of a pipeline, with scripted status codes: at
/// a preview's end without `ieof` it writes the next answer (a `100` lets the body go on, a final
/// one ends the request); at a request's end it writes the next answer unless a final one was
/// written already. Parts pass on.
final class ScriptedAnswerer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ICAPRequestPart
    typealias InboundOut = ICAPRequestPart
    typealias OutboundOut = ICAPResponsePart

    private var answers: [Int]
    private var answered = false

    init(_ answers: [Int]) {
        self.answers = answers.reversed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head:
            self.answered = false
        case .previewEnd(ieof: false):
            self.answer(context: context)
        case .end where !self.answered:
            self.answer(context: context)
        default:
            break
        }
        context.fireChannelRead(data)
    }

    private func answer(context: ChannelHandlerContext) {
        guard let status = self.answers.popLast() else { return }
        self.answered = status >= 200
        context.write(
            Self.wrapOutboundOut(.head(ICAPResponseHead(status: ICAPStatus(code: status)), .none)), promise: nil)
    }
}
