import Foundation

/// The real curl, as a client of the proxy.
struct Curl {
    struct Response {
        var status: Int
        var body: Data
        var headers: String
        var exitCode: Int32
        var stderr: String
        var numConnects: Int

        func header(_ name: String) -> String? {
            for line in self.headers.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }) {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    var proxy: String

    /// Runs curl through the proxy. `arguments` go before the URLs.
    func run(
        _ arguments: [String], urls: [String], directory: TemporaryDirectory, timeout: TimeInterval = 60
    ) throws -> Response {
        let headerFile = directory.file("headers-\(UUID().uuidString)")
        let bodyFile = directory.file("body-\(UUID().uuidString)")
        var all = ["-sS", "-x", self.proxy, "-D", headerFile, "-o", bodyFile, "-w", "%{http_code} %{num_connects}"]
        all += arguments
        all += urls
        let result = try Subprocess.run("curl", all, timeout: timeout)
        let written = result.output.split(separator: " ")
        let body = (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))) ?? Data()
        let headers = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: headerFile)
        try? FileManager.default.removeItem(atPath: bodyFile)
        return Response(
            status: written.first.flatMap { Int($0) } ?? 0, body: body, headers: headers, exitCode: result.status,
            stderr: result.stderr, numConnects: written.count > 1 ? Int(written[1]) ?? 0 : 0)
    }

    func get(_ url: String, _ arguments: [String] = [], directory: TemporaryDirectory) throws -> Response {
        try self.run(arguments, urls: [url], directory: directory)
    }
}
