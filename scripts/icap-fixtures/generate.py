#!/usr/bin/env python3
"""Turns captured ICAP streams into Tests/ICAPTests/Fixtures/*.swift string literals.

    generate.py CAPTURE_DIR > Tests/ICAPTests/Fixtures/CapturedExchanges.swift

Each stream is cut into messages by reading its framing (header block, Encapsulated offsets,
chunks); a preview that ends without ieof and is continued after the server's 100 Continue is
cut in two, so tests can answer the preview between the pieces.
"""
import re
import sys

root = sys.argv[1]

CAPTURES = [
    # (Swift name, directory, connection, how it was made)
    ("options", "options", 1, "c-icap-client -s echo (OPTIONS)"),
    ("reqmodGet", "reqmod-get", 1, "c-icap-client -req http://example.com/index.html"),
    ("reqmodGetNo204", "reqmod-get-no204", 1, "c-icap-client -req http://example.com/index.html -no204"),
    ("reqmodPostSmall", "reqmod-post-small", 1, "c-icap-client -req http://example.com/form -method POST -f small.txt"),
    ("reqmodPostPreview", "reqmod-post-preview", 1,
     "c-icap-client -req http://example.com/upload -method POST -f large.txt -w 512"),
    ("reqmodPostPreviewNo204", "reqmod-post-preview-no204", 1,
     "c-icap-client -req http://example.com/upload -method POST -f large.txt -w 512 -no204"),
    ("respmodSmall", "respmod-small", 1, "c-icap-client -resp http://example.com/page.txt -f small.txt"),
    ("respmodSmallNo204", "respmod-small-no204", 1,
     "c-icap-client -resp http://example.com/page.txt -f small.txt -no204"),
    ("respmodNoBody", "respmod-nobody", 1, "c-icap-client -resp http://example.com/empty"),
    ("respmodNoBodyNo204", "respmod-nobody-no204", 1, "c-icap-client -resp http://example.com/empty -no204"),
    ("respmodPreview", "respmod-preview", 1, "c-icap-client -resp http://example.com/big.txt -f large.txt -w 512"),
    ("respmodPreviewNo204", "respmod-preview-no204", 1,
     "c-icap-client -resp http://example.com/big.txt -f large.txt -w 512 -no204"),
    ("respmodNoPreview", "respmod-nopreview", 1,
     "c-icap-client -resp http://example.com/page.txt -f small.txt -nopreview"),
    ("respmodNoResHdr", "respmod-noreshdr", 1,
     "c-icap-client -resp http://example.com/page.txt -f small.txt -noreshdr -no204"),
    ("squidReqmod", "squid", 1,
     "Squid 5.7 (squid.conf here) as the client, reqmod_precache: curl GET hello.txt, POST -d, GET large.txt through it"),
    ("squidRespmod", "squid", 2,
     "Squid 5.7 (squid.conf here) as the client, respmod_precache: curl GET hello.txt, POST (origin 501), GET large.txt"),
]

RAW = [
    # (Swift name, file stem, what was sent by hand with raw.py)
    ("unknownService", "raw-unknown-service", "OPTIONS for a service c-icap does not have"),
    ("garbage", "raw-garbage", "a request line that is not ICAP"),
    ("unknownMethod", "raw-unknown-method", "a request with the method FETCH"),
]


def split(data):
    """Cuts a stream into pieces: whole messages, and preview / continuation halves."""
    pieces = []
    i = 0
    while i < len(data):
        end = data.index(b"\r\n\r\n", i) + 4
        head = data[i:end].decode("latin-1")
        m = re.search(r"(?im)^Encapsulated:\s*(.*?)\r$", head)
        entries = [e.strip().split("=") for e in m.group(1).split(",")] if m else [["null-body", "0"]]
        body_name, body_offset = entries[-1][0], int(entries[-1][1])
        j = end + body_offset
        preview = re.search(r"(?im)^Preview:", head) is not None and not head.startswith("ICAP/")
        if body_name != "null-body":
            j, ieof = chunks(data, j)
            if preview and not ieof and j < len(data) and data[j:j + 1] in b"0123456789abcdefABCDEF":
                pieces.append(data[i:j])
                i = j
                j, _ = chunks(data, j)
        pieces.append(data[i:j])
        i = j
    return pieces


def chunks(data, j):
    while True:
        line_end = data.index(b"\r\n", j)
        line = data[j:line_end]
        size = int(line.split(b";")[0].strip(), 16)
        j = line_end + 2
        if size == 0:
            assert data[j:j + 2] == b"\r\n", "trailers are not expected in these captures"
            return j + 2, b"ieof" in line
        j += size + 2


def literal(data, indent):
    text = data.decode("ascii")
    assert '"""' not in text and "\\" not in text and "\t" not in text
    out = [indent + '"""']
    lines = text.split("\n")
    for n, line in enumerate(lines):
        last = n == len(lines) - 1
        if line.endswith("\r"):
            line = line[:-1] + "\\r"
        assert "\r" not in line.replace("\\r", "")
        out.append((indent + line) if line else "")
    # The line break before the closing delimiter is not part of the string, so the text's final
    # "\n" becomes the empty last line above.
    out.append(indent + '"""')
    return "\n".join(out)


def swift_pieces(pieces, indent):
    items = []
    for piece in pieces:
        items.append(f"{indent}Piece(\n{literal(piece, indent + '    ')},\n{indent}    bytes: {len(piece)}),")
    return "\n".join(items)


print("""// Generated by scripts/icap-fixtures/generate.py from bytes captured on the wire; do not edit.
//
// How: Debian's c-icap 0.5.10 (srv_echo) ran with scripts/icap-fixtures/c-icap.conf on
// 127.0.0.1:13440; scripts/icap-fixtures/relay.py, a TCP relay on 13441, logged each direction of
// each connection to a file while c-icap-client 0.5.10 (capture.sh) or Squid 5.7 (squid.conf,
// requests made with curl through it) talked to c-icap through it. The error responses are
// c-icap's answers to requests written by hand (raw.py). Each stream is cut into messages by its
// own framing; `bytes` is each piece's length on the wire, checked by a test.

/// One piece of a captured stream: a whole message, or one half of a continued preview.
struct Piece: Sendable {
    let text: String
    /// The length of the piece on the wire, to catch an editor changing the literal.
    let bytes: Int

    init(_ text: String, bytes: Int) {
        self.text = text
        self.bytes = bytes
    }
}

/// Both directions of one captured ICAP connection.
struct CapturedExchange: Sendable {
    let name: String
    let howCaptured: String
    /// What the client sent, message by message; a preview continued after `100 Continue` is
    /// two pieces, the preview and the rest.
    let clientToServer: [Piece]
    /// What the server answered, message by message (a `100 Continue` is a piece of its own).
    let serverToClient: [Piece]
}
""")
print("enum Captured {")
names = []
for name, directory, conn, how in CAPTURES:
    c2s = open(f"{root}/{directory}/conn{conn}.c2s", "rb").read()
    s2c = open(f"{root}/{directory}/conn{conn}.s2c", "rb").read()
    names.append(name)
    print(f"    /// {how}")
    print(f"    static let {name} = CapturedExchange(")
    print(f'        name: "{name}",')
    print(f'        howCaptured: "{how}",')
    print("        clientToServer: [")
    print(swift_pieces(split(c2s), "            "))
    print("        ],")
    print("        serverToClient: [")
    print(swift_pieces(split(s2c), "            "))
    print("        ]")
    print("    )")
    print()
print("    /// Every capture, for tests that run over all of them.")
print("    static let all: [CapturedExchange] = [" + ", ".join(names) + "]")
print()
for name, stem, how in RAW:
    c2s = open(f"{root}/{stem}.c2s", "rb").read()
    s2c = open(f"{root}/{stem}.s2c", "rb").read()
    print(f"    /// c-icap's answer to {how}:")
    for line in c2s.decode("ascii").split("\r\n"):
        if line:
            print(f"    /// `{line}`")
    print(f"    static let {name}Response = Piece(\n{literal(s2c, '        ')},\n        bytes: {len(s2c)})")
    print()
print("}")
