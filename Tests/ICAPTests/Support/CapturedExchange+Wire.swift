@testable import ICAP

extension CapturedExchange {
    /// The client's pieces joined: everything it sent.
    var clientBytes: String { self.clientToServer.map(\.text).joined() }
    /// The server's pieces joined: everything it sent.
    var serverBytes: String { self.serverToClient.map(\.text).joined() }

    /// The methods of the requests the client sent, in order.
    var methods: [ICAPMethod] {
        self.clientToServer.compactMap { piece in
            piece.text.split(separator: " ", maxSplits: 1).first.flatMap { ICAPMethod(rawValue: String($0)) }
        }
    }

    /// The status codes the server answered with, in order (a `100` included).
    var statusCodes: [Int] {
        self.serverToClient.compactMap { piece in
            let line = piece.text.split(separator: " ", maxSplits: 2)
            return line.count > 1 ? Int(line[1]) : nil
        }
    }
}
