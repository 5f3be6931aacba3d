import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The built `portcullis` executable, run as a user would.
enum PortcullisBinary {
    static var path: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        for configuration in ["debug", "release"] {
            let path = root.appendingPathComponent(".build/\(configuration)/portcullis").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return root.appendingPathComponent(".build/debug/portcullis").path
    }

    /// This process's environment without `PORTCULLIS_*`, plus `extra`.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PORTCULLIS_") }
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    /// Runs `portcullis ARGUMENTS` to completion.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 60
    ) throws
        -> Subprocess.Result
    {
        try Subprocess.run(Self.path, arguments, environment: Self.environment(environment), timeout: timeout)
    }

    /// Starts the binary, waits until it listens on `port`, runs `body` with the process,
    /// then stops it with SIGTERM and returns its exit status and output.
    static func withRunning(
        _ arguments: [String], environment: [String: String] = [:], port: Int, scratch: TemporaryDirectory,
        _ body: (Process) async throws -> Void
    ) async throws -> (status: Int32, output: String) {
        let log = scratch.file("portcullis.log")
        let process = try Subprocess.start(Self.path, arguments, log: log, environment: Self.environment(environment))
        do {
            try FreePort.waitUntilListening(port: port, process: process, log: log)
            try await body(process)
        } catch {
            process.terminate()
            process.waitUntilExit()
            throw error
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}
