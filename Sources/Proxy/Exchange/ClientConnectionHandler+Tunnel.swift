import Logging
import NIOCore
import NIOHTTP1
import Policy

// CONNECT tunnels and protocol switches: the connection stops being HTTP.
extension ClientConnectionHandler {
    func openTunnel(to target: RequestTarget, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.environment.connector.connectRaw(host: target.host, port: target.port, on: context.eventLoop)
            .whenComplete { result in
                let this = loopBound.value
                switch result {
                case .success(let originChannel):
                    guard let context = this.context else {
                        originChannel.close(promise: nil)
                        return
                    }
                    this.record.line.action = "TCP_TUNNEL"
                    this.record.line.status = 200
                    this.record.line.peer = originChannel.remoteAddress.flatMap { IPAddress128($0)?.description }
                    var headers = HTTPHeaders()
                    headers.add(name: "Via", value: "1.1 \(this.environment.configuration.viaName)")
                    let head = HTTPResponseHead(
                        version: .http1_1, status: .custom(code: 200, reasonPhrase: "Connection established"),
                        headers: headers)
                    context.writeAndFlush(
                        ClientConnectionHandler.wrapOutboundOut(ResponseSerializer.encode(head, allocator: this.allocator)),
                        promise: nil)
                    this.splice(client: context, origin: originChannel, originHandlersToRemove: [])
                case .failure(let error):
                    let connectError =
                        error as? OriginConnectError ?? OriginConnectError(kind: .unreachable, detail: "\(error)")
                    this.writeLocalPage(
                        connectError.page, reason: connectError.detail, url: target.hostHeader, closeAfter: true)
                }
            }
    }

    func switchProtocols(_ plan: ResponsePlan, context: ChannelHandlerContext) {
        self.record.line.status = 101
        self.record.line.action = "TCP_TUNNEL"
        context.writeAndFlush(
            ClientConnectionHandler.wrapOutboundOut(ResponseSerializer.encode(plan, allocator: self.allocator)), promise: nil)
        guard let origin = self.origin else { return }
        self.origin = nil
        // Splice once the origin handler's current read is done (it is delivering the 101 now).
        // Until then it keeps its delegate (the machine, now tunnelling, ignores what arrives).
        let loopBound = NIOLoopBound((self, origin.channel, origin.handler), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (this, originChannel, originHandler) = loopBound.value
            guard let context = this.context else {
                originChannel.close(promise: nil)
                return
            }
            this.splice(client: context, origin: originChannel, originHandlersToRemove: [originHandler])
        }
    }

    /// Turns both connections into a byte tunnel: the glue handlers go in first, then the HTTP
    /// handlers come out, decoders last so the bytes they still hold reach the glue.
    func splice(
        client context: ChannelHandlerContext, origin: any Channel, originHandlersToRemove: [OriginConnectionHandler]
    ) {
        let clientChannel = context.channel
        let start = self.record
        let accessLog = self.accessLog
        do {
            let tunnel = try Tunnel.splice(
                client: clientChannel, origin: origin, idleTimeout: self.environment.configuration.tunnelIdleTimeout
            ) { tunnel in
                var record = start
                record.line.bytes = tunnel.bytesToClient
                record.log(action: nil, now: .now(), to: accessLog)
            }
            // The HTTP handlers leave, handing the bytes they hold to the glue: this one the
            // bytes it had not parsed (the parser stopped after the CONNECT or the upgrade
            // request), the origin's those behind the 101. Once both are gone the tunnel starts
            // moving bytes; what comes meanwhile waits in the glue, an EOF included.
            let clientPipeline = clientChannel.pipeline.syncOperations
            var removals = [clientPipeline.removeHandler(context: context)]
            let originPipeline = origin.pipeline.syncOperations
            for handler in originHandlersToRemove {
                // The origin handler hands the bytes behind the 101 to the glue as it leaves.
                removals.append(originPipeline.removeHandler(context: try originPipeline.context(handler: handler)))
            }
            let earlierEOF = self.clientInputClosed
            let loopBound = NIOLoopBound((tunnel, self.logger), eventLoop: clientChannel.eventLoop)
            EventLoopFuture.andAllSucceed(removals, on: clientChannel.eventLoop).whenComplete { result in
                let (tunnel, logger) = loopBound.value
                switch result {
                case .success:
                    tunnel.activate(clientInputClosed: earlierEOF)
                case .failure(let error):
                    logger.debug("tunnel setup failed", metadata: ["error": "\(error)"])
                    tunnel.abort()
                }
            }
        } catch {
            self.logger.debug("tunnel setup failed", metadata: ["error": "\(error)"])
            origin.close(promise: nil)
            clientChannel.close(promise: nil)
        }
    }
}
