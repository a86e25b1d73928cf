/// An interface as operators see it: its ifindex and the name it had when last seen. Status,
/// events and logs take both from here; nothing builds "name(index)" and parses it back.
public struct NamedInterface: Hashable, Sendable, CustomStringConvertible {
    public var index: InterfaceIndex
    /// Nil for a link that left before the agent learnt its name.
    public var name: String?

    public init(_ index: InterfaceIndex, name: String?) {
        self.index = index
        self.name = name
    }

    /// "vf0", or "ifindex(5)" when the name is not known.
    public var displayName: String { name ?? "ifindex(\(index))" }

    /// "vf0(5)", or "ifindex(5)": how every log line names an interface.
    public var description: String { name.map { "\($0)(\(index))" } ?? "ifindex(\(index))" }
}

extension LinkSnapshot {
    public var named: NamedInterface { NamedInterface(index, name: name) }
}
