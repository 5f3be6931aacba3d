import Testing

@testable import Policy

struct NameTableTests {
    private func tags(_ table: NameTable, _ key: String) -> [UInt16] {
        var key = key
        var found: [UInt16] = []
        key.withUTF8 { bytes in
            table.forEach(key: UnsafeRawBufferPointer(bytes)) { tag, _ in
                found.append(tag)
                return true
            }
        }
        return found.sorted()
    }

    @Test func everyKeyIsFoundExactlyWithAllItsRecords() {
        var builder = NameTable.Builder()
        for index in 0..<20_000 { builder.add(key: "host\(index).example", tag: UInt16(index % 500)) }
        builder.add(key: "host7.example", tag: 9999)
        let table = builder.build()
        #expect(table.count == 20_001)
        for index in stride(from: 0, to: 20_000, by: 37) where index != 7 {
            #expect(self.tags(table, "host\(index).example") == [UInt16(index % 500)])
        }
        #expect(self.tags(table, "host7.example") == [7, 9999])
        #expect(self.tags(table, "host20000.example").isEmpty)
        #expect(self.tags(table, "host1.exampl").isEmpty)
        #expect(self.tags(table, "").isEmpty)
    }

    @Test func payloadsComeBackIntact() {
        var builder = NameTable.Builder()
        builder.add(key: "example.com", tag: 1, payload: "/a/b")
        builder.add(key: "example.com", tag: 2, payload: "")
        let table = builder.build()
        var payloads: [String] = []
        var key = "example.com"
        key.withUTF8 { bytes in
            table.forEach(key: UnsafeRawBufferPointer(bytes)) { _, payload in
                payloads.append(String(decoding: payload, as: UTF8.self))
                return true
            }
        }
        #expect(payloads.sorted() == ["", "/a/b"])
    }

    @Test func anEmptyTableFindsNothing() {
        #expect(self.tags(NameTable.Builder().build(), "example.com").isEmpty)
    }
}
