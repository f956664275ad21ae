extension Duration {
    /// The duration in seconds, as a double (for step timing, metrics and benchmarks).
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
