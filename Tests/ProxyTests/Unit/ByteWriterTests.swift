import NIOCore
import Testing

@testable import Proxy

struct ByteWriterTests {
    private func written(_ body: (inout ByteWriter) -> Void) -> String {
        var buffer = ByteBuffer()
        ByteWriter.write(into: &buffer, longest: 64, body)
        return String(buffer: buffer)
    }

    @Test func decimalsFromZeroToTheLargest() {
        #expect(self.written { $0.decimal(0) } == "0")
        #expect(self.written { $0.decimal(7) } == "7")
        #expect(self.written { $0.decimal(1_764_216_000) } == "1764216000")
        #expect(self.written { $0.decimal(Int64.max) } == "9223372036854775807")
        // Negative values do not occur in the log; they are written as 0, never as garbage.
        #expect(self.written { $0.decimal(-5) } == "0")
    }

    @Test func decimalsArePaddedToTheMinimumWidth() {
        #expect(self.written { $0.decimal(7, minimumDigits: 3) } == "007")
        #expect(
            self.written { $0.decimal(45, minimumDigits: 6, pad: UInt8(ascii: " "), leadingSpace: true) } == "     45")
        // Wider than the minimum: all digits, no padding (the leading space stays).
        #expect(
            self.written { $0.decimal(1_234_567, minimumDigits: 6, pad: UInt8(ascii: " "), leadingSpace: true) }
                == " 1234567")
    }

    @Test func aMessageLongerThanMeasuredStopsTheProcessRatherThanWritePastTheBuffer() async {
        // A measuring mistake must never become a write past the end of the buffer's storage.
        await #expect(processExitsWith: .failure) {
            var buffer = ByteBuffer()
            ByteWriter.write(into: &buffer, longest: 8) { $0.text(String(repeating: "x", count: 4096)) }
        }
        await #expect(processExitsWith: .failure) {
            var buffer = ByteBuffer()
            ByteWriter.write(into: &buffer, longest: 8) { writer in
                for _ in 0..<4096 { writer.byte(UInt8(ascii: "x")) }
            }
        }
    }

    @Test func textAndBytesFollowEachOther() {
        let long = String(repeating: "x", count: 40)
        #expect(
            self.written {
                $0.text("GET "); $0.text(long); $0.byte(UInt8(ascii: "!"))
            } == "GET " + long + "!")
    }
}
