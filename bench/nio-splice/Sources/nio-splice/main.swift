// nio-splice LISTEN_PORT ORIGIN_PORT [THREADS]
//
// Listens on 127.0.0.1:LISTEN_PORT and splices every connection to its own connection to
// 127.0.0.1:ORIGIN_PORT, with one event loop per core (or THREADS). It is the cost of the
// SwiftNIO channel layer alone, the same four socket calls per request that Portcullis makes,
// and none of its work: the benchmark's floor for a proxy built on SwiftNIO.
import NIOCore
import NIOPosix

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4,
    let listenPort = Int(arguments[1]), let originPort = Int(arguments[2]),
    let threads = arguments.count == 4 ? Int(arguments[3]) : System.coreCount, threads > 0
else {
    print("usage: nio-splice LISTEN_PORT ORIGIN_PORT [THREADS]")
    exit(64)
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let server = try await ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 256)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { client in
        // The client's channel is registered (and read) only once its origin is connected.
        // (Both channels live on the client's event loop: the pair stays there.)
        let pair = NIOLoopBound(SpliceHandler.pair(), eventLoop: client.eventLoop)
        return ClientBootstrap(group: client.eventLoop)
            .channelInitializer { origin in
                origin.eventLoop.makeCompletedFuture { try origin.pipeline.syncOperations.addHandler(pair.value.1) }
            }
            .connect(host: "127.0.0.1", port: originPort)
            .flatMapThrowing { _ in try client.pipeline.syncOperations.addHandler(pair.value.0) }
    }
    .bind(host: "127.0.0.1", port: listenPort).get()
print("nio-splice: 127.0.0.1:\(listenPort) -> 127.0.0.1:\(originPort), \(threads) event loops")
try await server.closeFuture.get()
