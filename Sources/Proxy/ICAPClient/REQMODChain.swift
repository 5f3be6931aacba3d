import ICAP
import NIOCore
import NIOHTTP1

/// The REQMOD services of one request, asked in order. Pure: the caller asks the service
/// each step names and feeds back its answer. A `204` passes the request on unchanged, a `200`
/// with `req-hdr` passes on the modified request, a `200` with `res-hdr` answers the client
/// (request satisfaction) and ends the chain; a failure is skipped for a `bypass=on` service
/// and ends the chain with a 503 for a `bypass=off` one.
struct REQMODChain {
    struct Service {
        let name: String
        let bypass: Bool
        /// The notes of its common answers (`name:204`, `name:200-req`, `name:200-res`).
        let notes: (unchanged: String, modifiedRequest: String, response: String)

        init(name: String, bypass: Bool) {
            self.name = name
            self.bypass = bypass
            self.notes = ("\(name):204", "\(name):200-req", "\(name):200-res")
        }

        init(name: String, bypass: Bool, notes: (unchanged: String, modifiedRequest: String, response: String)) {
            self.name = name
            self.bypass = bypass
            self.notes = notes
        }
    }

    enum Outcome {
        /// Forward this request and body (`modified`: a service changed them).
        case forward(HTTPRequestHead, body: ByteBuffer?, modified: Bool)
        /// Answer the client with this response (a block page, typically).
        case respond(HTTPResponseHead, body: ByteBuffer)
        /// An essential service failed.
        case fail(ICAPClientError, service: String)
    }

    enum Step {
        /// Send this request head to the service at `index`.
        case ask(index: Int, head: HTTPRequestHead, body: ByteBuffer?)
        case finished(Outcome)
    }

    private let services: [Service]
    private(set) var head: HTTPRequestHead
    /// The request body (nil: the request has none).
    private(set) var body: ByteBuffer?
    private var modified = false
    private var index = 0
    /// What each service said, for the access log: `name:204`, `name:timeout`…
    private(set) var notes: [String] = []

    init(head: HTTPRequestHead, body: ByteBuffer? = nil, services: [Service]) {
        self.head = head
        self.body = body
        self.services = services
    }

    mutating func start() -> Step { self.next() }

    mutating func answered(_ result: Result<ICAPClientResponse, ICAPClientError>) -> Step {
        let service = self.services[self.index]
        switch result {
        case .success(let response) where response.head.statusCode == 204:
            self.notes.append(service.notes.unchanged)
        case .success(let response):
            if let http = response.heads.response {
                self.notes.append(service.notes.response)
                return .finished(.respond(http, body: response.body))
            }
            if let http = response.heads.request {
                self.notes.append(service.notes.modifiedRequest)
                // The modified request's body is the one the service sent back (none: empty).
                let body = self.body == nil && !response.heads.hasBody ? nil : response.body
                if http != self.head || body != self.body {
                    self.head = http
                    self.body = body
                    self.modified = true
                }
            } else {
                return self.failed(.malformed("a 200 with neither req-hdr nor res-hdr"), service: service)
            }
        case .failure(let error):
            return self.failed(error, service: service)
        }
        self.index += 1
        return self.next()
    }

    private mutating func failed(_ error: ICAPClientError, service: Service) -> Step {
        self.notes.append("\(service.name):\(error.label)")
        guard service.bypass else { return .finished(.fail(error, service: service.name)) }
        self.index += 1
        return self.next()
    }

    private mutating func next() -> Step {
        guard self.index < self.services.count else {
            return .finished(.forward(self.head, body: self.body, modified: self.modified))
        }
        return .ask(index: self.index, head: self.head, body: self.body)
    }
}
