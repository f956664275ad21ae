import Foundation

/// Turns byte counts into progress output: a bar redrawn in place on a terminal, or for logs
/// (CI, `kubectl logs`) one plain line every 10 % (every 64 MiB when the size is unknown).
public struct ProgressMeter: Sendable {
    public enum Style: Sendable { case bar, lines }

    let label: String
    let total: Int64?
    let style: Style
    let started: TimeInterval
    let startBytes: Int64
    var lastStep: Int64 = -1
    var lastDraw: TimeInterval = 0

    /// - Parameters:
    ///   - total: the full size, when the server said it.
    ///   - resumedFrom: bytes already there from an earlier attempt (not counted in the rate).
    public init(label: String, total: Int64?, resumedFrom: Int64 = 0, style: Style, now: TimeInterval = ProcessInfo.processInfo.systemUptime) {
        self.label = label
        self.total = total
        self.style = style
        self.started = now
        self.startBytes = resumedFrom
    }

    /// The text to write for `bytes` received so far, or nil when nothing needs redrawing. A bar
    /// starts with a carriage return and has no newline; a plain line ends with one.
    public mutating func update(bytes: Int64, now: TimeInterval = ProcessInfo.processInfo.systemUptime, final: Bool = false) -> String? {
        let step: Int64 = total.map { $0 > 0 ? bytes * 10 / $0 : 10 } ?? bytes / (64 << 20)
        switch style {
        case .lines:
            // The last line is forced only when there were no percentages to reach 100 with.
            guard step != lastStep || (final && total == nil) else { return nil }
            lastStep = step
            return "\(label): \(amount(bytes))\(rate(bytes, now))\n"
        case .bar:
            // At most ten redraws a second: a fast loopback transfer would otherwise spend its
            // time writing to the terminal.
            guard final || now - lastDraw >= 0.1 else { return nil }
            lastDraw = now
            let end = final ? "\n" : ""
            guard let total, total > 0 else { return "\r\(label): \(amount(bytes))\(rate(bytes, now))\u{1B}[K" + end }
            let width = 30
            let filled = Int(min(bytes, total) * Int64(width) / total)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            return "\r\(label) [\(bar)] \(amount(bytes))\(rate(bytes, now))\u{1B}[K" + end
        }
    }

    func amount(_ bytes: Int64) -> String {
        guard let total, total > 0 else { return Self.size(bytes) }
        return "\(min(100, bytes * 100 / total))% (\(Self.size(bytes)) of \(Self.size(total)))"
    }

    func rate(_ bytes: Int64, _ now: TimeInterval) -> String {
        let elapsed = now - started
        guard elapsed > 0.05, bytes > startBytes else { return "" }
        return ", \(Self.size(Int64(Double(bytes - startBytes) / elapsed)))/s"
    }

    /// `1.5 MiB` style sizes, as `list-models` prints them too.
    public static func size(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
