import Foundation
import NIOCore
import NIOHTTP1
import Policy

/// What the access log needs to know about the exchange in flight. Its log line's fields are
/// kept as the line itself (`line`), filled in as the exchange goes and written out as they
/// are: building a separate entry at the end would copy, and retain, each of its strings.
struct ExchangeRecord {
    /// The log line's fields: client, method, URL, action, status, bytes, peer, content type
    /// (the origin's own bytes, or the proxy's for a local page) and the policy's verdict.
    var line: AccessLogEntry
    var start: NIODeadline
    var clientVersion: HTTPVersion = .http1_1
    var logged = false

    /// The media type of the proxy's own pages.
    static let htmlContentType = ByteBuffer(string: "text/html")

    /// When the exchange started, on the wall clock (the log's first field, and the time the
    /// policy's schedules are read at).
    var startDate: Date {
        Date(timeIntervalSince1970: Double(self.line.startMillis) / 1000)
    }

    /// An exchange starting at `start`, the event loop's clock reading (the one its timeouts
    /// read too, so a test's clock moves them all), which is `startMillis` on the wall clock.
    init(
        method: String = "NONE", url: String = "-", client: String = "-", start: NIODeadline = .now(),
        startMillis: Int64? = nil
    ) {
        self.line = AccessLogEntry(
            startMillis: startMillis ?? WallClock.systemNanoseconds() / 1_000_000, elapsedMillis: 0, client: client,
            action: "NONE_NONE", status: 0, bytes: 0, method: method, url: url, peer: nil, contentType: nil,
            policy: nil)
        self.start = start
    }

    init(head: ClientRequestHead, client: String, start: NIODeadline, startMillis: Int64) {
        self.init(method: head.method.rawValue, url: head.uri, client: client, start: start, startMillis: startMillis)
        self.clientVersion = head.version
    }

    /// Ends the line at `now`, with `action` in place of the one recorded (if given), and
    /// writes it to `accessLog`. (Mutating: the line is written from where it is, not copied.)
    ///
    /// The line then lets go of its content type, a view of the origin connection's read
    /// buffer: that connection, back in the pool, may read its next response (for another
    /// client) before this record is replaced, and reuses the buffer only if nothing else
    /// holds it.
    mutating func log(action: String?, now: NIODeadline, to accessLog: AccessLogBuffer) {
        self.line.elapsedMillis = (now - self.start).nanoseconds / 1_000_000
        if let action { self.line.action = action }
        accessLog.record(self.line)
        self.line.contentType = nil
    }
}
