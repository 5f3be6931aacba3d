import ICAP
import NIOCore
import Policy

/// Everything the proxy core needs to know, already validated. Built by the executable from
/// flags, environment and the configuration file; tests build it directly.
public struct ProxyConfiguration: Sendable {
    /// Addresses to accept clients on. Default: loopback only.
    public var listen: [HostAndPort] = [
        HostAndPort(host: "127.0.0.1", port: 3128), HostAndPort(host: "::1", port: 3128),
    ]
    /// Addresses of the ICAP server (Portcullis as a filtering service for Squid and other
    /// ICAP clients: `icap://HOST:PORT/reqmod` and `/respmod`). Default: none (off).
    public var icapListen: [HostAndPort] = []
    /// Remote ICAP services the proxy consults (Portcullis as an ICAP client), in chain
    /// order. Only REQMOD services for now. Default: none.
    public var icapServices: [ICAPServiceConfiguration] = []
    /// Time an ICAP service may stay silent while an answer is awaited.
    public var icapReadTimeout: TimeAmount = .seconds(10)
    /// Destination ports a CONNECT tunnel may open.
    public var connectPorts: Set<Int> = [443]
    /// Client networks allowed to use the proxy; everybody else gets 403.
    public var allowedClients: [IPNetwork] = IPNetwork.localAndPrivate
    /// Destination networks the proxy never connects to (besides its own listeners).
    public var deniedDestinations: [IPNetwork] = []
    /// Largest request head (request line and headers) accepted; beyond it: 431.
    public var maxHeaderBytes: Int = 64 * 1024
    /// Largest request body accepted; 0 means no limit. Beyond it: 413.
    public var maxRequestBodyBytes: Int64 = 0
    /// Time a client has to send a complete request head once it started one (slowloris).
    public var headerTimeout: TimeAmount = .seconds(30)
    /// Time an idle keep-alive client connection is kept open between requests.
    public var idleTimeout: TimeAmount = .seconds(60)
    /// Time allowed to resolve an origin's name, and then to connect to it (all addresses raced).
    public var connectTimeout: TimeAmount = .seconds(10)
    /// Time an origin may stay silent while a response is awaited or streamed.
    public var originReadTimeout: TimeAmount = .seconds(60)
    /// Time a tunnel (CONNECT, WebSocket) may carry no byte in either direction.
    public var tunnelIdleTimeout: TimeAmount = .seconds(600)
    /// Client connections served at once; accepting pauses at the limit.
    public var maxClientConnections: Int = 10_000
    /// Idle keep-alive connections kept per origin and per event loop.
    public var maxIdleOriginConnections: Int = 256
    /// How long an idle pooled origin connection is kept.
    public var originIdleTimeout: TimeAmount = .seconds(30)
    /// What to do with `X-Forwarded-For`.
    public var forwardedFor: ForwardedForMode = .append
    /// The pseudonym this proxy gives itself in `Via`.
    public var viaName: String = "portcullis"
    /// Where the access log goes.
    public var accessLog: AccessLogTarget = .off
    /// How long in-flight exchanges may run on after SIGTERM/SIGINT before being cut.
    public var shutdownGracePeriod: TimeAmount = .seconds(30)
    /// Event loop threads; default one per core.
    public var threads: Int = System.coreCount

    public init() {}
}

/// What the proxy does with `X-Forwarded-For` on forwarded requests.
public enum ForwardedForMode: String, Sendable, CaseIterable {
    /// Append the client's address (the common proxy behaviour).
    case append
    /// Leave the header as the client sent it.
    case transparent
    /// Remove the header: origins learn nothing of the client.
    case delete
}

/// Where access log lines are written.
public enum AccessLogTarget: Sendable, Equatable {
    case off
    case stdout
    case file(String)
}
