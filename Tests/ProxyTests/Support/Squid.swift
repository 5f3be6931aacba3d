import Foundation

/// A real Squid (Debian's), started for a test on loopback with no cache, optionally with
/// an ICAP REQMOD service, and stopped after it.
final class Squid {
    let directory: TemporaryDirectory
    let port: Int
    private let process: Process

    var proxy: String { "http://127.0.0.1:\(self.port)" }
    var curl: Curl { Curl(proxy: self.proxy) }

    /// - Parameter reqmodService: an `icap://` URL Squid sends every request to (`bypass=off`:
    ///   a failing service is an error, not a pass).
    init(reqmodService: String? = nil, respmodService: String? = nil) throws {
        self.directory = try TemporaryDirectory()
        // Squid drops to the `proxy` user when started as root: let it write here.
        _ = try? Subprocess.run("chmod", ["-R", "a+rwx", self.directory.path])
        let port = try FreePort.pick()
        self.port = port
        let d = self.directory.path
        var adaptation = ""
        if let reqmodService {
            adaptation += """
                icap_service portcullis_req reqmod_precache \(reqmodService) bypass=off
                adaptation_access portcullis_req allow all

                """
        }
        if let respmodService {
            adaptation += """
                icap_service portcullis_resp respmod_precache \(respmodService) bypass=off
                adaptation_access portcullis_resp allow all

                """
        }
        let config = """
            http_port 127.0.0.1:\(port)
            pid_filename \(d)/squid.pid
            cache_log \(d)/cache.log
            access_log stdio:\(d)/access.log
            coredump_dir \(d)
            cache deny all
            cache_mem 8 MB
            shutdown_lifetime 0 seconds
            pinger_enable off
            http_access allow localhost
            http_access deny all
            icap_enable \(adaptation.isEmpty ? "off" : "on")
            icap_preview_enable on
            icap_persistent_connections on
            icap_send_client_ip on
            \(adaptation)
            """
        try self.directory.write("squid.conf", Data(config.utf8))
        // Squid keeps the signal mask it is started with, and the test process blocks SIGTERM
        // in its threads: start it through a Python exec that clears the mask, so SIGTERM stops
        // it cleanly (a SIGKILLed Squid leaves its shared memory segments behind in /dev/shm,
        // and the next Squid refuses to start).
        self.process = try Subprocess.start(
            "python3",
            [
                "-c",
                "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])",
                "squid", "-N", "-f", self.directory.file("squid.conf"),
            ], log: self.directory.file("stdout.log"))
        try FreePort.waitUntilListening(port: port, process: self.process, log: self.directory.file("cache.log"))
    }

    /// Squid's own log (what it thought of the ICAP service, for failure messages).
    var cacheLog: String { (try? String(contentsOfFile: self.directory.file("cache.log"), encoding: .utf8)) ?? "" }

    func stop() {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        self.directory.remove()
    }

    deinit { self.stop() }
}
