import NIOCore
import Testing

@testable import Proxy

struct RequestTargetTests {
    @Test func absoluteFormIsSplitIntoItsParts() throws {
        let target = try RequestTarget(absoluteForm: "http://Example.COM:8080/a/b?q=1#frag")
        #expect(target.scheme == "http")
        #expect(target.host == "example.com")
        #expect(target.port == 8080)
        #expect(target.originForm == "/a/b?q=1")
        #expect(target.hostHeader == "example.com:8080")
    }

    @Test func defaultPortIsOmittedFromTheHostHeader() throws {
        let target = try RequestTarget(absoluteForm: "http://example.com")
        #expect(target.port == 80)
        #expect(target.originForm == "/")
        #expect(target.hostHeader == "example.com")
        #expect(try RequestTarget(absoluteForm: "http://example.com?x").originForm == "/?x")
    }

    @Test func ipv6LiteralsKeepTheirBrackets() throws {
        let target = try RequestTarget(absoluteForm: "http://[::1]:8080/x")
        #expect(target.host == "::1")
        #expect(target.hostHeader == "[::1]:8080")
        #expect(target.absoluteURL == "http://[::1]:8080/x")
    }

    @Test func userinfoAndTrailingDotAreDropped() throws {
        let target = try RequestTarget(absoluteForm: "http://user:pw@example.com./")
        #expect(target.host == "example.com")
    }

    @Test func malformedTargetsAreRejectedWithTheirReason() throws {
        #expect(throws: RequestTargetError.notAbsolute) { try RequestTarget(absoluteForm: "/relative") }
        #expect(throws: RequestTargetError.badHost) { try RequestTarget(absoluteForm: "http:///path") }
        #expect(throws: RequestTargetError.badHost) { try RequestTarget(absoluteForm: "http://exa mple.com/") }
        #expect(throws: RequestTargetError.badPort) { try RequestTarget(absoluteForm: "http://example.com:99999/") }
        #expect(throws: RequestTargetError.badPort) { try RequestTarget(absoluteForm: "http://example.com:12ab/") }
        #expect(throws: RequestTargetError.unsupportedScheme("gopher")) {
            try RequestTarget(absoluteForm: "gopher://x/")
        }
        #expect(throws: RequestTargetError.badHost) { try RequestTarget(absoluteForm: "http://[::1/") }
        // A colon left in the host after the port is split off: an IPv6 address must be bracketed.
        #expect(throws: RequestTargetError.badHost) { try RequestTarget(absoluteForm: "http://e.com::80/") }
        #expect(throws: RequestTargetError.badHost) { try RequestTarget(absoluteForm: "http://::1:8080/") }
        #expect(throws: RequestTargetError.badHost) { try RequestTarget(authorityForm: "e.com::443") }
        #expect(throws: RequestTargetError.badHost) { try RequestTarget(authorityForm: "2001:db8::1:443") }
        // Inside brackets, an IPv6 address and nothing else.
        #expect(throws: RequestTargetError.badHost) { try RequestTarget(absoluteForm: "http://[1:2]/") }
        #expect(throws: RequestTargetError.badHost) { try RequestTarget(authorityForm: "[:::]:443") }
        #expect(throws: RequestTargetError.badHost) { try RequestTarget(authorityForm: "[::1.2.3.4.]:443") }
        #expect(try RequestTarget(absoluteForm: "http://[::ffff:192.0.2.1]/").host == "::ffff:192.0.2.1")
    }

    @Test func connectTargetsNeedAPort() throws {
        let target = try RequestTarget(authorityForm: "example.com:443")
        #expect(target.host == "example.com")
        #expect(target.port == 443)
        #expect(throws: RequestTargetError.badPort) { try RequestTarget(authorityForm: "example.com") }
        #expect(try RequestTarget(authorityForm: "[2001:db8::1]:443").host == "2001:db8::1")
    }

    @Test func hostHeaderIsWrittenWithinItsMeasuredLength() throws {
        for (url, expected) in [
            ("http://example.com/", "example.com"), ("http://example.com:8080/", "example.com:8080"),
            ("http://[::1]:3128/", "[::1]:3128"), ("http://[2001:db8::1]/", "[2001:db8::1]"),
            ("http://a:65535/", "a:65535"),
        ] {
            let target = try RequestTarget(absoluteForm: url)
            // The room `writeHostHeader` asks for: the host's length plus 8 (brackets, colon, port).
            var buffer = ByteBuffer()
            ByteWriter.write(into: &buffer, longest: target.host.utf8.count + 8) { target.writeHostHeader(to: &$0) }
            #expect(String(buffer: buffer) == expected, "\(url)")
            #expect(target.hostHeader == expected, "\(url)")
        }
    }
}
