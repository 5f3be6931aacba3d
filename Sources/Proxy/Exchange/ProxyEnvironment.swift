import NIOCore
import NIOHTTP1
import Policy

/// What every client connection shares, whatever its event loop. Immutable.
struct ProxyEnvironment: Sendable {
    let configuration: ProxyConfiguration
    let planner: RequestPlanner
    let connector: OriginConnector
    let policies: LoopPolicies
    let pools: OriginPools
    let accessLogs: AccessLogBuffers
    /// The remote REQMOD services of each loop (none unless configured).
    let icapServices: ICAPServiceGroups?

    /// Renders a local page, with the templates of `snapshot`, into a complete response.
    /// `values` come with the page's status and title filled in here.
    func localResponse(
        _ page: LocalPage, values: PageValues, snapshot: PolicySnapshot, closeAfter: Bool,
        allocator: ByteBufferAllocator
    ) -> (HTTPResponseHead, ByteBuffer) {
        var values = values
        values.status = Int(page.status.code)
        values.title = page.title
        if values.host.isEmpty {
            values.host =
                (try? RequestTarget(absoluteForm: values.url).host)
                ?? (try? RequestTarget(authorityForm: values.url).host) ?? ""
        }
        values.time = HTTPDateFormat.now()
        let html = snapshot.pages.render(page.template, values)
        var body = allocator.buffer(capacity: html.utf8.count)
        body.writeString(html)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Portcullis-Error", value: page.code)
        headers.add(name: "Via", value: "1.1 \(self.configuration.viaName)")
        if closeAfter { headers.add(name: "Connection", value: "close") }
        return (HTTPResponseHead(version: .http1_1, status: page.status, headers: headers), body)
    }
}

/// One `AccessLogBuffer` per event loop.
struct AccessLogBuffers: Sendable {
    private let buffers: PerEventLoop<AccessLogBuffer>

    init(group: any EventLoopGroup, writer: AccessLogWriter?) {
        self.buffers = PerEventLoop(group: group) { AccessLogBuffer(loop: $0, writer: writer) }
    }

    func buffer(for loop: any EventLoop) -> AccessLogBuffer {
        loop.preconditionInEventLoop()
        return self.buffers.value(for: loop)
    }

    /// Hands every loop's pending lines to the writer (shutdown).
    func flushAll(group: any EventLoopGroup) async {
        await self.buffers.onEachLoop { $0.flush() }
    }
}
