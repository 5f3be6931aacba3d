import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real c-icap (Debian's) with its `srv_echo` service, started for a test on a free
/// loopback port (scripts/icap-fixtures/c-icap.conf, paths in a temporary directory), and
/// stopped with SIGKILL after it.
final class CICAP {
    let directory: TemporaryDirectory
    let port: Int
    private let process: Process

    /// `icap://127.0.0.1:PORT/echo`.
    var echoURL: String { "icap://127.0.0.1:\(self.port)/echo" }

    init() throws {
        self.directory = try TemporaryDirectory()
        _ = try? Subprocess.run("chmod", ["-R", "a+rwx", self.directory.path])
        let port = try FreePort.pick()
        self.port = port
        let d = self.directory.path
        let config = """
            PidFile \(d)/c-icap.pid
            CommandsSocket \(d)/c-icap.ctl
            Timeout 300
            MaxKeepAliveRequests 100
            KeepAliveTimeout 600
            StartServers 1
            MaxServers 2
            MinSpareThreads 2
            MaxSpareThreads 4
            ThreadsPerChild 16
            MaxRequestsPerChild 0
            Port 127.0.0.1:\(port)
            ServerAdmin you@your.address
            ServerName PortcullisTests
            TmpDir \(d)
            # Anonymous shared memory: the default (POSIX, named in /dev/shm) is left behind by
            # every c-icap killed rather than stopped, and after 1024 of them none starts.
            InterProcessSharedMemScheme mmap
            MaxMemObject 131072
            DebugLevel 1
            Pipelining on
            SupportBuggyClients off
            ModulesDir /usr/lib/x86_64-linux-gnu/c_icap
            ServicesDir /usr/lib/x86_64-linux-gnu/c_icap
            TemplateDir /usr/share/c_icap/templates/
            TemplateDefaultLanguage en
            LoadMagicFile /etc/c-icap/c-icap.magic
            RemoteProxyUsers off
            ServerLog \(d)/server.log
            AccessLog \(d)/access.log
            Service echo srv_echo.so

            """
        try self.directory.write("c-icap.conf", Data(config.utf8))
        self.process = try Subprocess.start(
            "c-icap", ["-N", "-D", "-f", self.directory.file("c-icap.conf")], log: self.directory.file("stdout.log"))
        try FreePort.waitUntilListening(port: port, process: self.process, log: self.directory.file("stdout.log"))
    }

    /// c-icap's access log: one line per request it served.
    var accessLog: String { (try? String(contentsOfFile: self.directory.file("access.log"), encoding: .utf8)) ?? "" }

    func stop() {
        if self.process.isRunning {
            // c-icap keeps the signal mask it is started with, and a test process's threads
            // block SIGTERM: SIGKILL cannot be blocked. Its children go first: a child left
            // alone finishes the exchanges it holds, so a service "killed" mid-response would
            // not be.
            for child in Self.children(of: self.process.processIdentifier) { kill(child, SIGKILL) }
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
        self.directory.remove()
    }

    /// The processes whose parent is `parent` (from `/proc/PID/stat`: the field after the
    /// state, which follows the parenthesised command name).
    private static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let nameEnd = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: nameEnd)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent ? pid : nil
        }
    }

    deinit { self.stop() }
}
