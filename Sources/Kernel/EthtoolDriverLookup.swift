import CNetlink
import Glibc
import POSIX

/// Driver names through the SIOCETHTOOL ioctl (ETHTOOL_GDRVINFO); ethtool netlink has no
/// driver-info message. Works in whatever namespace the agent runs in, unlike sysfs.
public final class EthtoolDriverLookup: DriverLookup {
    private let socketDescriptor: Int32

    public init() throws {
        socketDescriptor = try systemCall("socket(AF_INET, SOCK_DGRAM)") {
            socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
    }

    deinit { close(socketDescriptor) }

    public func driver(of interfaceName: String) -> String? {
        var info = ethtool_drvinfo()
        info.cmd = UInt32(ETHTOOL_GDRVINFO)
        let result = withUnsafeMutablePointer(to: &info) { pointer in
            hn_ethtool_ioctl(socketDescriptor, interfaceName, UnsafeMutableRawPointer(pointer))
        }
        guard result == 0 else { return nil }
        return withUnsafeBytes(of: info.driver) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
