import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A listener that cannot be opened: which setting, which address, and the system's reason
/// (`cannot listen on 127.0.0.1:3128 (listen): Address already in use`).
public struct ListenError: Error, CustomStringConvertible {
    public let setting: String
    public let address: HostAndPort
    public let reason: String

    init(setting: String, address: HostAndPort, error: any Error) {
        self.setting = setting
        self.address = address
        if let error = error as? IOError {
            self.reason = String(cString: strerror(error.errnoCode))
        } else if let error = error as? SocketAddressError.UnknownHost {
            self.reason = "the host does not resolve (\(error.errorDescription))"
        } else {
            self.reason = "\(error)"
        }
    }

    public var description: String { "cannot listen on \(self.address) (\(self.setting)): \(self.reason)" }
}
