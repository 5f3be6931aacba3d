import ICAP
import NIOCore
import NIOHTTP1

/// The head of a response an ICAP RESPMOD service sent back (`res-hdr`), made ready to go on
/// like an origin's. The service's body arrives de-chunked and of unknown length, so its
/// `Content-Length` cannot be trusted: the head is re-framed as chunked (the client side then
/// frames it for the client), or `Content-Length: 0` when the service sent no body.
enum AdaptedResponseHead {
    struct Unusable: Error, CustomStringConvertible {
        let description: String
    }

    static func make(
        _ head: HTTPResponseHead, hasBody: Bool, requestWasHEAD: Bool
    ) throws(Unusable) -> OriginResponseHead {
        guard head.status.code >= 200 else {
            throw Unusable(description: "an adapted response with status \(head.status.code)")
        }
        var head = head
        let bodiless = requestWasHEAD || head.status.code == 204 || head.status.code == 304
        if !bodiless {
            head.headers.remove(name: "Content-Length")
            head.headers.remove(name: "Transfer-Encoding")
            if hasBody {
                head.headers.add(name: "Transfer-Encoding", value: "chunked")
            } else {
                head.headers.add(name: "Content-Length", value: "0")
            }
        }
        var bytes: ByteBuffer
        do {
            bytes = try HTTPHeadBytes.serialize(head)
        } catch {
            throw Unusable(description: "the adapted response head cannot be written: \(error)")
        }
        var parser = OriginResponseParser()
        parser.expectResponse(requestWasHEAD: requestWasHEAD)
        do {
            guard case .head(let parsed) = try parser.next(&bytes) else {
                throw Unusable(description: "the adapted response head is incomplete")
            }
            return parsed
        } catch let error as Unusable {
            throw error
        } catch {
            throw Unusable(description: "the adapted response head is malformed: \(error)")
        }
    }
}
