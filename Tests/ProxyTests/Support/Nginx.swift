import Foundation

/// A real nginx origin on loopback (IPv4 and IPv6), started for a test and stopped after it.
///
/// Locations: static files from its root; `/echo` answers with the request body (the echo
/// module Debian's nginx-light ships); `/headers` answers with the request head as received;
/// `/dav/` stores PUT bodies as files; `/slow` answers after a second.
final class Nginx {
    let directory: TemporaryDirectory
    let port: Int
    private let process: Process

    var base: String { "http://127.0.0.1:\(self.port)" }
    var baseIPv6: String { "http://[::1]:\(self.port)" }
    var root: String { self.directory.file("root") }

    init() throws {
        self.directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(
            atPath: self.directory.file("root/dav"), withIntermediateDirectories: true)
        for name in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            try FileManager.default.createDirectory(
                atPath: self.directory.file(name), withIntermediateDirectories: true)
        }
        // nginx workers drop to an unprivileged user when started as root: let them in.
        _ = try? Subprocess.run("chmod", ["-R", "a+rwx", self.directory.path])
        let port = try FreePort.pick()
        self.port = port
        let d = self.directory.path
        let module = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
        let config = """
            \(FileManager.default.fileExists(atPath: module) ? "load_module \(module);" : "")
            worker_processes 1;
            daemon off;
            pid \(d)/nginx.pid;
            error_log \(d)/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log \(d)/access.log;
                client_body_temp_path \(d)/client_body;
                proxy_temp_path \(d)/proxy;
                fastcgi_temp_path \(d)/fastcgi;
                uwsgi_temp_path \(d)/uwsgi;
                scgi_temp_path \(d)/scgi;
                keepalive_requests 100000;
                default_type application/octet-stream;
                server {
                    listen 127.0.0.1:\(port);
                    listen [::1]:\(port);
                    root \(d)/root;
                    client_max_body_size 200m;
                    location = /echo {
                        client_body_buffer_size 64m;
                        echo_read_request_body;
                        echo_request_body;
                    }
                    location = /headers {
                        echo -n $echo_client_request_headers;
                    }
                    location = /slow {
                        echo_sleep 1;
                        echo "slow answer";
                    }
                    location /dav/ {
                        dav_methods PUT DELETE;
                        create_full_put_path on;
                        dav_access user:rw group:rw all:rw;
                    }
                }
            }
            """
        try self.directory.write("nginx.conf", Data(config.utf8))
        self.process = try Subprocess.start(
            "nginx",
            [
                "-c", self.directory.file("nginx.conf"), "-p", self.directory.path, "-e",
                self.directory.file("error.log"),
            ],
            log: self.directory.file("stdout.log"))
        try FreePort.waitUntilListening(port: port, process: self.process, log: self.directory.file("error.log"))
    }

    func writeFile(_ name: String, _ data: Data) throws {
        try data.write(to: URL(fileURLWithPath: self.root + "/" + name))
        _ = try? Subprocess.run("chmod", ["a+r", self.root + "/" + name])
    }

    func storedFile(_ name: String) -> Data? {
        FileManager.default.contents(atPath: self.root + "/" + name)
    }

    func stop() {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        self.directory.remove()
    }

    deinit { self.stop() }
}
