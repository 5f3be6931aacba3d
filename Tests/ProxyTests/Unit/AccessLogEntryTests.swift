import NIOCore
import Testing

@testable import Proxy

struct AccessLogEntryTests {
    private func line(_ entry: AccessLogEntry) -> String {
        var buffer = ByteBuffer()
        entry.write(to: &buffer)
        return String(buffer: buffer)
    }

    @Test func writesSquidNativeFormat() {
        let entry = AccessLogEntry(
            startMillis: 1_732_640_000_007, elapsedMillis: 45, client: "192.0.2.10", action: "TCP_MISS", status: 200,
            bytes: 1234,
            method: "GET", url: "http://example.com/", peer: "93.184.216.34",
            contentType: ByteBuffer(string: "text/html"))
        #expect(
            self.line(entry)
                == "1732640000.007     45 192.0.2.10 TCP_MISS/200 1234 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html\n"
        )
    }

    @Test func localAnswersHaveNoPeerAndPaddedStatus() {
        let entry = AccessLogEntry(
            startMillis: 1_000_000_000_500, elapsedMillis: 1_234_567, client: "::1", action: "TCP_DENIED", status: 0,
            bytes: 0,
            method: "CONNECT", url: "example.com:25", peer: nil, contentType: nil)
        #expect(
            self.line(entry) == "1000000000.500 1234567 ::1 TCP_DENIED/000 0 CONNECT example.com:25 - HIER_NONE/- -\n")
    }

    @Test func spacesAndControlCharactersCannotForgeFields() {
        let entry = AccessLogEntry(
            startMillis: 0, elapsedMillis: 0, client: "1.2.3.4", action: "NONE_NONE", status: 400, bytes: 0,
            method: "GET",
            url: "http://e.com/a b\nfake 1.2.3.4 TCP_MISS/200", peer: nil, contentType: nil)
        let line = self.line(entry)
        #expect(line.split(separator: "\n").count == 1)
        #expect(line.contains("http://e.com/a%20b%0Afake%201.2.3.4%20TCP_MISS/200"))
        #expect(line.split(separator: " ", omittingEmptySubsequences: true).count == 10)
    }

    @Test func aContentTypeWithParametersStaysOneField() {
        let entry = AccessLogEntry(
            startMillis: 0, elapsedMillis: 0, client: "1.2.3.4", action: "TCP_MISS", status: 200, bytes: 5,
            method: "GET", url: "http://e.com/", peer: "5.6.7.8",
            contentType: ByteBuffer(string: "text/html; charset=utf-8"))
        #expect(self.line(entry).hasSuffix(" HIER_DIRECT/5.6.7.8 text/html;%20charset=utf-8\n"))
    }
}
