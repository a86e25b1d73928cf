import Glibc
import Netlink
import NetlinkCodecs
import Policy

/// Offload features through ethtool generic netlink (the `ethtool -k/-K` of the kernel API).
public final class EthtoolNetlink {
    private let channel: RequestChannel
    let family: UInt16

    /// Resolves the "ethtool" family. Throws a `KernelError` (ENOENT) on kernels without it (< 5.6).
    public init(channel: RequestChannel) throws {
        self.channel = channel
        let sequence = channel.nextSequence()
        let replies = try channel.dump(EthtoolCodec.familyRequest(name: ETHTOOL.familyName, sequence: sequence),
                                       sequence: sequence, operation: "CTRL_CMD_GETFAMILY ethtool")
        guard let id = try replies.lazy.compactMap({ try EthtoolCodec.decodeFamilyID($0) }).first else {
            throw MalformedMessage("generic netlink controller reply without CTRL_ATTR_FAMILY_ID")
        }
        family = id
    }

    /// Nil when the device no longer exists.
    func features(of device: InterfaceIndex, name: String) throws -> OffloadFeatures? {
        let sequence = channel.nextSequence()
        do {
            let replies = try channel.dump(
                EthtoolCodec.featuresGetRequest(family: family, device: device, sequence: sequence),
                sequence: sequence, operation: "ETHTOOL_MSG_FEATURES_GET \(name)")
            return try replies.lazy.compactMap { try EthtoolCodec.decodeFeatures($0, family: self.family) }.first
        } catch let error as KernelError where error.errno == ENODEV {
            return nil
        }
    }

    func setFeatures(of device: InterfaceIndex, changes: [String: Bool], name: String) throws {
        let sequence = channel.nextSequence()
        try channel.perform(
            EthtoolCodec.featuresSetRequest(family: family, device: device, changes: changes, sequence: sequence),
            sequence: sequence, operation: "ETHTOOL_MSG_FEATURES_SET \(Action.describe(changes)) on \(name)")
    }
}
