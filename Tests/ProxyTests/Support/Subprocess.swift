import Foundation

/// Runs real programs (curl, nginx, the built portcullis) for the integration tests.
enum Subprocess {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var output: String { String(decoding: self.stdout, as: UTF8.self) }
    }

    /// Runs `executable` to completion. `timeout` bounds a test that would otherwise hang.
    /// Output goes to temporary files, not pipes: no reader threads, nothing to drain.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: TimeInterval = 60
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try self.locate(executable))
        process.arguments = arguments
        if let environment { process.environment = environment }
        let base = NSTemporaryDirectory() + "portcullis-run-" + UUID().uuidString
        let outPath = base + ".out"
        let errPath = base + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer {
            try? out.close()
            try? err.close()
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
        }
        process.waitUntilExit()
        let stdout = FileManager.default.contents(atPath: outPath) ?? Data()
        let stderr = FileManager.default.contents(atPath: errPath) ?? Data()
        return Result(
            status: process.terminationStatus, stdout: stdout, stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Starts a long-running program; the caller terminates it.
    static func start(
        _ executable: String, _ arguments: [String], log: String, environment: [String: String]? = nil
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try self.locate(executable))
        process.arguments = arguments
        if let environment { process.environment = environment }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func locate(_ name: String) throws -> String {
        if name.hasPrefix("/") { return name }
        for directory in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw MissingProgram(name: name)
    }

    struct MissingProgram: Error, CustomStringConvertible {
        let name: String
        var description: String { "'\(self.name)' is not installed (run .ci/run, which installs the test peers)" }
    }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        let path = NSTemporaryDirectory() + "portcullis-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    func file(_ name: String) -> String { self.path + "/" + name }

    func write(_ name: String, _ data: Data) throws {
        try data.write(to: URL(fileURLWithPath: self.file(name)))
    }

    func remove() { try? FileManager.default.removeItem(atPath: self.path) }
}

/// Deterministic pseudo-random bytes, so a payload compared byte for byte is never trivial.
func payload(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> Data {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
    }
    return Data(bytes)
}

/// Byte-for-byte equality of two payloads, as a Bool: a failed `#expect(a == b)` on megabytes
/// would have the test library diff them, which takes longer than any test should.
func sameBytes(_ received: (some DataProtocol)?, _ expected: some DataProtocol) -> Bool {
    guard let received else { return false }
    let a = Data(received)
    let b = Data(expected)
    if a == b { return true }
    let firstDifference = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
    print("payloads differ: \(a.count) bytes received, \(b.count) expected, first difference at \(firstDifference)")
    return false
}
