import Foundation
import NIOCore
import NIOHTTP1
import Policy

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the access log needs to know about the exchange in flight.
struct ExchangeRecord {
    var startMillis: Int64
    var start: NIODeadline
    var client: String
    var method: String
    var url: String
    var clientVersion: HTTPVersion = .http1_1
    var action: String = "NONE_NONE"
    var status: Int = 0
    var bytes: Int = 0
    var peer: String?
    /// The response's media type: the origin's own bytes, or the proxy's for a local page.
    var contentType: ByteBuffer?
    /// The policy's verdict and rule (`deny,group=Default,rule=2,list=deny`).
    var policy: String?
    var logged = false

    /// The media type of the proxy's own pages.
    static let htmlContentType = ByteBuffer(string: "text/html")

    /// When the exchange started, on the wall clock (the log's first field, and the time the
    /// policy's schedules are read at).
    var startDate: Date {
        Date(timeIntervalSince1970: Double(self.startMillis) / 1000)
    }

    init(method: String = "NONE", url: String = "-", client: String = "-") {
        self.startMillis = Self.wallClockMillis()
        self.start = .now()
        self.client = client
        self.method = method
        self.url = url
    }

    init(head: HTTPRequestHead, client: String) {
        self.init(method: head.method.rawValue, url: head.uri, client: client)
        self.clientVersion = head.version
    }

    /// The log entry of the exchange, ended at `now`.
    func entry(action: String?, now: NIODeadline = .now()) -> AccessLogEntry {
        AccessLogEntry(
            startMillis: self.startMillis,
            elapsedMillis: (now - self.start).nanoseconds / 1_000_000,
            client: self.client, action: action ?? self.action, status: self.status, bytes: self.bytes,
            method: self.method, url: self.url, peer: self.peer, contentType: self.contentType, policy: self.policy)
    }

    private static func wallClockMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
