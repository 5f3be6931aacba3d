#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file and file-prefix reads, and directory listings, with plain POSIX calls (one
/// allocation, no copies; errors in the system's words). The importers, the page files and the
/// command line (its configuration file, `/proc`) read files with it: Foundation's whole-file
/// readers leak a buffer for every file that says it is empty, as `/proc` files do.
public enum FileContents {
    /// Every byte of the file at `path` (or the first `limit` bytes).
    public static func bytes(of path: String, limit: Int = .max) throws(ImportError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(path, Self.message(errno)) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .unreadable(path, Self.message(errno)) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path, "not a regular file") }

        // The size is a hint: one byte more than it lets the first chunk see the end of the
        // file, and the loop copes with a file that grows meanwhile.
        let expected = max(Int(status.st_size), 0)
        var bytes: [UInt8] = []
        while bytes.count < limit {
            let size = min(limit - bytes.count, max(expected - bytes.count + 1, 1 << 16))
            var failure: Int32 = 0
            let chunk = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                count = 0
                guard let base = buffer.baseAddress else { return }
                while count < size {
                    let result = read(descriptor, base + count, size - count)
                    if result > 0 {
                        count += result
                    } else if result == 0 {
                        return
                    } else if errno != EINTR {
                        failure = errno
                        return
                    }
                }
            }
            if failure != 0 { throw .unreadable(path, Self.message(failure)) }
            if bytes.isEmpty { bytes = chunk } else { bytes += chunk }
            if chunk.count < size { break }
        }
        return bytes
    }

    /// The names in `directory`, in no particular order (`.` and `..` left out).
    public static func names(in directory: String) throws(ImportError) -> [String] {
        guard let handle = opendir(directory) else { throw .unreadable(directory, Self.message(errno)) }
        defer { closedir(handle) }
        var names: [String] = []
        while true {
            // readdir returns nil at the end and on an error; only errno tells them apart.
            errno = 0
            guard let entry = readdir(handle) else { break }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        if errno != 0 { throw .unreadable(directory, Self.message(errno)) }
        return names
    }

    private static func message(_ code: Int32) -> String { String(cString: strerror(code)) }
}
