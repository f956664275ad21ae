import Foundation
import NimbusKernels
import Testing
@testable import NimbusProfiles

@Suite struct SystemInfoTests {
    @Test func cpuinfoGivesModelCoresAndFeatures() {
        // Two sockets, two cores each, two hyperthreads per core.
        var text = ""
        for (cpu, (socket, core)) in [(0, 0), (0, 1), (1, 0), (1, 1), (0, 0), (0, 1), (1, 0), (1, 1)].enumerated() {
            text += "processor\t: \(cpu)\nmodel name\t: Example Xeon\nphysical id\t: \(socket)\ncore id\t\t: \(core)\n"
            text += "flags\t\t: fpu sse4_2 avx avx2 fma f16c avx512f avx512_vnni amx_tile\n\n"
        }
        let info = CPUInfoText(text)
        #expect(info.modelName == "Example Xeon")
        #expect(info.physicalCores == 4)
        #expect(info.simdFeatures == ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "amx_tile"])
    }

    @Test func armCpuinfoUsesFeatures() {
        let info = CPUInfoText("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm asimddp sve\nCPU part\t: 0xd0c\n")
        #expect(info.modelName == nil && info.physicalCores == nil)
        #expect(info.simdFeatures == ["asimd", "asimddp", "sve"])
    }

    @Test func meminfoIsInKibibytes() {
        let mem = MemInfoText("MemTotal:       16384 kB\nMemFree:  100 kB\nMemAvailable:    8192 kB\n")
        #expect(mem.totalBytes == 16384 * 1024 && mem.availableBytes == 8192 * 1024)
        #expect(MemInfoText("garbage\n").totalBytes == nil)
    }

    @Test func gpusComeFromTheDriverFilesOrDeviceNodes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nimbus-gpus-\(UUID().uuidString)").path
        let proc = root + "/proc", dev = root + "/dev"
        try FileManager.default.createDirectory(atPath: dev, withIntermediateDirectories: true)
        #expect(NVIDIADevices.detect(procRoot: proc, devRoot: dev).isEmpty)
        for node in ["nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"] { #expect(FileManager.default.createFile(atPath: dev + "/" + node, contents: nil)) }
        #expect(NVIDIADevices.detect(procRoot: proc, devRoot: dev) == ["NVIDIA GPU (\(dev)/nvidia0)", "NVIDIA GPU (\(dev)/nvidia1)"])
        try FileManager.default.createDirectory(atPath: proc + "/0000:3b:00.0", withIntermediateDirectories: true)
        try "Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:  42\n".write(toFile: proc + "/0000:3b:00.0/information", atomically: true, encoding: .utf8)
        #expect(NVIDIADevices.detect(procRoot: proc, devRoot: dev) == ["NVIDIA H100 80GB HBM3 (0000:3b:00.0)"])
    }

    @Test func thisMachineIsDescribed() {
        let s = SystemInfo.detect()
        #expect(s.logicalCores >= 1 && s.physicalCores >= 1 && s.physicalCores <= s.logicalCores)
        #expect(s.memoryTotalBytes > 0 && s.memoryAvailableBytes <= s.memoryTotalBytes)
        #expect(s.kernelPaths == KernelPath.supported)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if flags.contains(" avx512_vnni") { #expect(s.simdFeatures.contains("avx512_vnni")) }
    }

    @Test func theReportListsCompatibleThenIncompatibleProfiles() {
        let report = ProfileReport(system: Machines.skylake, defaultProfile: "cpu-avx2-throughput")
        let text = report.text
        let compatible = text.range(of: "Compatible profiles"), incompatible = text.range(of: "Incompatible profiles")
        #expect(compatible != nil && incompatible != nil)
        guard let compatible, let incompatible else { return }
        let head = text[compatible.upperBound..<incompatible.lowerBound], tail = text[incompatible.upperBound...]
        #expect(head.contains("* cpu-avx2-throughput") && head.contains("cpu-generic-latency") && !head.contains("avx512"))
        #expect(tail.contains("cpu-avx512vnni-throughput") && tail.contains("lacks it"))
        #expect(text.contains("GPUs          none"))
    }
}
