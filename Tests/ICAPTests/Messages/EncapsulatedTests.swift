import Testing

@testable import ICAP

struct EncapsulatedTests {
    @Test(
        arguments: [
            ("null-body=0", nil, nil, Encapsulated.BodySection.nullBody, 0),
            ("req-hdr=0, null-body=110", 0, nil, .nullBody, 110),
            ("req-hdr=0, req-body=154", 0, nil, .requestBody, 154),
            ("req-hdr=0, res-hdr=108, res-body=220", 0, 108, .responseBody, 220),
            ("res-hdr=0, null-body=164", nil, 0, .nullBody, 164),
            ("res-body=0", nil, nil, .responseBody, 0),
            ("opt-body=0", nil, nil, .optionsBody, 0),
            // Squid's spacing, and none at all.
            ("req-hdr=0,res-hdr=110,res-body=296", 0, 110, .responseBody, 296),
            ("  req-hdr=0 ,\tnull-body=5 ", 0, nil, .nullBody, 5),
        ] as [(String, Int?, Int?, Encapsulated.BodySection, Int)])
    func parsesValidValues(
        value: String, request: Int?, response: Int?, body: Encapsulated.BodySection, offset: Int
    )
        throws
    {
        let encapsulated = try Encapsulated(parsing: value)
        #expect(encapsulated.requestHeaderOffset == request)
        #expect(encapsulated.responseHeaderOffset == response)
        #expect(encapsulated.bodySection == body)
        #expect(encapsulated.bodyOffset == offset)
        #expect(try Encapsulated(parsing: encapsulated.headerValue) == encapsulated)
    }

    @Test func serialisesInTheRFCsForm() {
        let encapsulated = Encapsulated(requestHeaderLength: 108, responseHeaderLength: 112, bodySection: .responseBody)
        #expect(encapsulated.headerValue == "req-hdr=0, res-hdr=108, res-body=220")
        #expect(encapsulated.requestHeaderLength == 108)
        #expect(encapsulated.responseHeaderLength == 112)
        #expect(Encapsulated.nullBody.headerValue == "null-body=0")
        #expect(!Encapsulated.nullBody.hasBody)
        #expect(
            Encapsulated(requestHeaderLength: 0, responseHeaderLength: nil, bodySection: .requestBody).headerValue
                == "req-body=0")
    }

    @Test(arguments: [
        ("req-hdr=0, foo-body=10", "unknown section \"foo-body\""),
        ("req-hdr=0, res-hdr=200, res-body=100", "offsets must ascend, but res-body=100 follows res-hdr=200"),
        ("req-hdr=0, res-hdr=0, res-body=100", "offsets must ascend, but res-hdr=0 follows req-hdr=0"),
        ("req-hdr=0, req-body=100, null-body=100", "two body sections, req-body and null-body; exactly one is allowed"),
        ("req-hdr=0, null-body=100, res-body=200", "two body sections, null-body and res-body; exactly one is allowed"),
        ("req-body=0, req-hdr=10", "req-hdr comes after the body section req-body, which must be last"),
        ("res-hdr=0, req-hdr=50, res-body=100", "req-hdr must come once, before res-hdr"),
        ("req-hdr=0, req-hdr=50, req-body=100", "req-hdr must come once, before res-hdr"),
        ("req-hdr=0", "no body section (req-body, res-body, opt-body or null-body)"),
        ("req-hdr=5, null-body=10", "the first section req-hdr must start at offset 0, not 5"),
        ("req-hdr=0, null-body=abc", "offset \"abc\" of null-body is not a decimal number"),
        ("req-hdr=0, null-body=-1", "offset \"-1\" of null-body is not a decimal number"),
        ("req-hdr=0, null-body=99999999999", "offset \"99999999999\" of null-body is not a decimal number"),
        ("req-hdr=0, null-body=", "offset \"\" of null-body is not a decimal number"),
        ("req-hdr 0, null-body=1", "entry \"req-hdr 0\" is not name=offset"),
        ("", "entry \"\" is not name=offset"),
        ("req-hdr=0,, null-body=1", "entry \"\" is not name=offset"),
        ("REQ-HDR=0, null-body=1", "unknown section \"REQ-HDR\""),
    ])
    func refusesMalformedValuesNamingTheProblem(value: String, problem: String) {
        #expect(throws: ICAPParseError.badEncapsulated(value, problem)) { try Encapsulated(parsing: value) }
        #expect(ICAPParseError.badEncapsulated(value, problem).code == .badEncapsulated)
    }
}
