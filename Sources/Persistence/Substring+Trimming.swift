extension Substring {
    /// Without the leading and trailing characters in `set` (no Foundation here).
    func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
