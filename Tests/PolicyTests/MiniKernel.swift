@testable import Policy

/// A pure stand-in for the kernel: applies actions to links and tc observations the way
/// Linux does (admin up brings carrier on devices in `carrierOnUp`; deleting clsact deletes its filters).
struct MiniKernel {
    var links: [InterfaceIndex: LinkSnapshot]
    var relay: [InterfaceIndex: RelayObservation] = [:]
    var carrierOnUp: Set<InterfaceIndex> = []
    var offloads: [InterfaceIndex: OffloadFeatures] = [:]

    mutating func apply(_ action: Action) {
        switch action {
        case .setAdminState(let d, let up):
            if up {
                links[d]?.flags.insert(.up)
                if carrierOnUp.contains(d) { links[d]?.flags.insert(.lowerUp) }
            } else {
                links[d]?.flags.subtract([.up, .lowerUp])
            }
        case .setAddrGenMode(let d, let mode):
            links[d]?.addrGenMode = mode
        case .setMTU(let d, let mtu):
            links[d]?.mtu = mtu
        case .setFlag(let d, let flag, let on):
            if on { links[d]?.flags.insert(flag.linkFlag) } else { links[d]?.flags.remove(flag.linkFlag) }
        case .addClsact(let d):
            relay[d, default: .absent].hasClsact = true
        case .deleteClsact(let d):
            relay[d] = .absent
        case .addRedirect(let d, let hook, let kind, let target):
            precondition(relay[d]?.hasClsact == true, "filter added before clsact on \(d)")
            let filter = RelayFilter(kind: kind, target: target)
            if hook == .ingress { relay[d]?.ingress = filter } else { relay[d]?.egress = filter }
        case .deleteRedirect(let d, let hook):
            if hook == .ingress { relay[d]?.ingress = nil } else { relay[d]?.egress = nil }
        case .setFeatures(let d, let changes):
            for (name, on) in changes {
                if on { offloads[d]?.wanted.insert(name); offloads[d]?.active.insert(name) }
                else { offloads[d]?.wanted.remove(name); offloads[d]?.active.remove(name) }
            }
        case .setGSOLimits(let d, let limits):
            links[d]?.gso = limits
        case .setLinkMode(let d, let mode):
            links[d]?.linkMode = mode
        case .setOperState(let d, let state):
            links[d]?.operState = state
        }
    }
}
