import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `.tar.gz` blacklist archives (UT1 ships `blacklists.tar.gz`), extracted with the system's
/// `tar` into a fresh temporary directory.
enum TarArchive {
    static let tool = "/usr/bin/tar"

    /// Whether the file is a gzip archive: by its name (`.tar.gz`, `.tgz`) or its first bytes.
    static func isArchive(path: String, prefix: [UInt8]) -> Bool {
        let name = path.lowercased()
        return name.hasSuffix(".tar.gz") || name.hasSuffix(".tgz") || prefix.starts(with: [0x1F, 0x8B])
    }

    /// Extracts `archive` into a new temporary directory and returns the directory's path.
    /// The caller removes it with ``remove(_:)``.
    static func extract(_ archive: String) throws(ImportError) -> String {
        let directory = try Self.makeTemporaryDirectory(for: archive)
        do {
            try Self.run(archive, into: directory)
        } catch {
            Self.remove(directory)
            throw error
        }
        return directory
    }

    static func remove(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func makeTemporaryDirectory(for archive: String) throws(ImportError) -> String {
        var base = FileManager.default.temporaryDirectory.path
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        var template = Array("\(base)/portcullis-import-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let made else {
            throw .archive(archive, "cannot make a temporary directory in \(base): \(String(cString: strerror(errno)))")
        }
        return made
    }

    private static func run(_ archive: String, into directory: String) throws(ImportError) {
        let absolute =
            archive.hasPrefix("/") ? archive : FileManager.default.currentDirectoryPath + "/" + archive
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.tool)
        process.arguments = ["-xzf", absolute, "-C", directory, "--no-same-owner"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .archive(archive, "cannot run \(Self.tool): \(error)")
        }
        // Read before waiting: tar would block on a full pipe.
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            var message = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if message.count > 500 { message = "…" + message.suffix(500) }
            let how =
                process.terminationReason == .exit
                ? "tar exited with status \(process.terminationStatus)"
                : "tar was killed by signal \(process.terminationStatus)"
            throw .archive(archive, message.isEmpty ? how : "\(how): \(message)")
        }
    }
}
