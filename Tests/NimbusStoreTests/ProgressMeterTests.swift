import Testing
@testable import NimbusStore

@Suite struct ProgressMeterTests {
    @Test func plainLinesEveryTenPercent() {
        var meter = ProgressMeter(label: "m.gguf", total: 1000, style: .lines, now: 0)
        var lines: [String] = []
        for bytes in stride(from: Int64(0), through: 1000, by: 10) {
            if let line = meter.update(bytes: bytes, now: Double(bytes) / 1000) { lines.append(line) }
        }
        #expect(lines.count == 11)
        #expect(lines.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") })
        #expect(lines.last?.hasPrefix("m.gguf: 100% (1000 B of 1000 B)") == true)
    }

    @Test func barRedrawsInPlace() {
        var meter = ProgressMeter(label: "m", total: 4 << 20, style: .bar, now: 0)
        let half = meter.update(bytes: 2 << 20, now: 1)
        #expect(half?.hasPrefix("\rm [###############...............] 50% (2.0 MiB of 4.0 MiB), 2.0 MiB/s") == true)
        #expect(meter.update(bytes: 3 << 20, now: 1.01) == nil)
        #expect(meter.update(bytes: 4 << 20, now: 1.02, final: true)?.hasSuffix("\n") == true)
    }

    @Test func sizes() {
        #expect(ProgressMeter.size(512) == "512 B")
        #expect(ProgressMeter.size(1536) == "1.5 KiB")
        #expect(ProgressMeter.size(90 << 20) == "90.0 MiB")
    }
}
