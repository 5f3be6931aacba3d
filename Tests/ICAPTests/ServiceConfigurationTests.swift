import NIOCore
import Testing

@testable import ICAP

struct ServiceConfigurationTests {
    @Test func squidStyleServiceLinesAreRead() throws {
        let service = try ICAPServiceConfiguration(parsing: "reqmod icap://127.0.0.1:1344/echo bypass=on preview=1024")
        #expect(service.method == .reqmod)
        #expect(service.host == "127.0.0.1")
        #expect(service.port == 1344)
        #expect(service.path == "/echo")
        #expect(service.bypass)
        #expect(service.preview == 1024)
        #expect(service.url == "icap://127.0.0.1/echo")
        let respmod = try ICAPServiceConfiguration(parsing: "RESPMOD icap://[::1]:11344/av name=antivirus")
        #expect(respmod.method == .respmod)
        #expect(respmod.host == "::1")
        #expect(respmod.port == 11344)
        #expect(!respmod.bypass, "essential unless said otherwise, as in Squid")
        #expect(respmod.name == "antivirus")
        #expect(respmod.description == "respmod icap://[::1]:11344/av bypass=off")
    }

    @Test func malformedLinesAreRefusedSayingWhy() {
        for (text, problem) in [
            ("reqmod", "expected"), ("options icap://h/x", "reqmod or respmod"), ("reqmod http://h/x", "icap://"),
            ("reqmod icap://h:0/x", "port"), ("reqmod icap://h:99999/x", "port"), ("reqmod icap:///x", "no host"),
            ("reqmod icap://h/x bypass=maybe", "unknown option"), ("reqmod icap://h/x preview=-1", "preview"),
            ("reqmod icap://[::1/x", "unclosed"), ("reqmod icap://h/x loud", "NAME=VALUE"),
            ("reqmod icap://c::1]:1344/x", "cannot have"), ("reqmod icap://::1/x", "cannot have"),
            ("reqmod icap://ic\u{E4}p.example/x", "cannot have"), ("reqmod icap://[1:2]/x", "not an IPv6 address"),
            ("reqmod icap://[10.0.0.1]/x", "not an IPv6 address"), ("reqmod icap://h/\u{E9}cho", "service path"),
            ("reqmod icap://h/x\u{7F}", "service path"),
        ] {
            do {
                _ = try ICAPServiceConfiguration(parsing: text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.contains(problem), "\(text): \(error)")
            }
        }
    }
}

struct ServiceCircuitBreakerTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func aServiceIsSuspendedAfterFailuresInARowAndTriedAgainLater() {
        var breaker = ServiceCircuitBreaker(
            failureThreshold: 3, initialBackoff: .seconds(5), maximumBackoff: .seconds(20))
        var transitions: [ServiceCircuitBreaker.Transition] = []
        var permits: [Bool] = []
        transitions.append(breaker.recordFailure(at: self.start))
        transitions.append(breaker.recordSuccess())  // a success resets the count
        transitions.append(breaker.recordFailure(at: self.start))
        transitions.append(breaker.recordFailure(at: self.start))
        transitions.append(breaker.recordFailure(at: self.start))
        permits.append(breaker.permitsRequest(at: self.start + .seconds(4)))
        permits.append(breaker.permitsRequest(at: self.start + .seconds(5)))  // one trial once the back-off ends
        permits.append(breaker.permitsRequest(at: self.start + .seconds(5)))  // only one
        transitions.append(breaker.recordFailure(at: self.start + .seconds(6)))
        permits.append(breaker.permitsRequest(at: self.start + .seconds(16)))
        transitions.append(breaker.recordFailure(at: self.start + .seconds(16)))
        permits.append(breaker.permitsRequest(at: self.start + .seconds(36)))
        transitions.append(breaker.recordFailure(at: self.start + .seconds(36)))  // capped
        permits.append(breaker.permitsRequest(at: self.start + .seconds(56)))
        transitions.append(breaker.recordSuccess())
        permits.append(breaker.permitsRequest(at: self.start + .seconds(56)))
        #expect(
            transitions == [
                .none, .none, .none, .none, .suspended(for: .seconds(5)), .suspended(for: .seconds(10)),
                .suspended(for: .seconds(20)), .suspended(for: .seconds(20)), .resumed,
            ])
        #expect(permits == [false, true, false, true, true, true, true])
        #expect(breaker.state == .closed(consecutiveFailures: 0))
    }
}
