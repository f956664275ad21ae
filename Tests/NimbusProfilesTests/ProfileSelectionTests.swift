import NimbusKernels
import Testing
@testable import NimbusProfiles

/// Machines built in code, so selection is tested for CPUs this one is not.
enum Machines {
    static func x86(paths: [KernelPath], features: [String], cores: Int = 8) -> SystemInfo {
        SystemInfo(cpuModel: "Test CPU", architecture: "x86_64", logicalCores: cores, physicalCores: cores,
                   simdFeatures: features, kernelPaths: paths, memoryTotalBytes: 1 << 34, memoryAvailableBytes: 1 << 33, gpus: [])
    }

    static let avx512 = x86(paths: [.scalar, .avx2, .avx512vnni],
                            features: ["avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni"])
    /// AVX-512 without VNNI (Skylake-SP): only the AVX2 kernels apply.
    static let skylake = x86(paths: [.scalar, .avx2], features: ["avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl"])
    static let arm = SystemInfo(cpuModel: "unknown", architecture: "aarch64", logicalCores: 4, physicalCores: 4,
                                simdFeatures: ["asimd"], kernelPaths: [.scalar], memoryTotalBytes: 1 << 32,
                                memoryAvailableBytes: 1 << 31, gpus: [])
}

@Suite struct ProfileSelectionTests {
    @Test func everyKernelPathHasAThroughputAndALatencyProfile() {
        let profiles = ProfileCatalog.all(threads: 4)
        #expect(Set(profiles.map(\.name)).count == profiles.count)
        for path in KernelPath.allCases {
            let mine = profiles.filter { $0.kernelPath == path }
            #expect(Set(mine.map(\.goal)) == Set(ProfileGoal.allCases), "\(path)")
            // Latency means fewer sequences and smaller steps than throughput on the same path.
            if let t = mine.first(where: { $0.goal == .throughput }), let l = mine.first(where: { $0.goal == .latency }) {
                #expect(l.maxSequences < t.maxSequences && l.maxBatchedTokens < t.maxBatchedTokens)
                #expect(l.maxBatchedTokens > l.maxSequences, "a latency step still has room for a prompt chunk")
            }
            #expect(mine.allSatisfy { $0.threads == 4 && $0.name.hasPrefix("cpu-") && $0.name.hasSuffix("-" + $0.goal.rawValue) })
        }
        #expect(profiles.contains { $0.name == "cpu-generic-latency" && $0.kernelPath == .scalar })
    }

    @Test func unsetPicksTheFastestCompatiblePathForThroughput() throws {
        let chosen = try ProfileCatalog.select(name: nil, system: Machines.avx512)
        #expect(chosen.profile.kernelPath == .avx512vnni && chosen.profile.goal == .throughput && !chosen.requested)
        #expect(try ProfileCatalog.select(name: "", system: Machines.skylake).profile.name == "cpu-avx2-throughput")
        #expect(try ProfileCatalog.select(name: nil, system: Machines.arm).profile.name == "cpu-generic-throughput")
    }

    @Test func aForcedKernelPathSteersTheAutomaticChoice() throws {
        #expect(try ProfileCatalog.select(name: nil, system: Machines.avx512, kernelOverride: .avx2).profile.name == "cpu-avx2-throughput")
        // A path the CPU lacks is ignored, as the kernels ignore it.
        #expect(try ProfileCatalog.select(name: nil, system: Machines.skylake, kernelOverride: .avx512vnni).profile.name == "cpu-avx2-throughput")
        #expect(ProfileCatalog.kernelOverride(["NIMBUS_KERNELS": "AVX2"]) == .avx2)
        #expect(ProfileCatalog.kernelOverride(["NIMBUS_KERNELS": "sse"]) == nil)
    }

    @Test func aNameSelectsThatProfileAnyCase() throws {
        let chosen = try ProfileCatalog.select(name: " CPU-AVX2-Latency ", system: Machines.avx512)
        #expect(chosen.profile.name == "cpu-avx2-latency" && chosen.requested)
        #expect(try ProfileCatalog.select(name: "cpu-generic-throughput", system: Machines.avx512).profile.kernelPath == .scalar)
    }

    @Test func nimGoalNamesPickTheBestPathForThatGoal() throws {
        #expect(try ProfileCatalog.select(name: "latency-optimized", system: Machines.avx512).profile.name == "cpu-avx512vnni-latency")
        #expect(try ProfileCatalog.select(name: "throughput", system: Machines.skylake).profile.name == "cpu-avx2-throughput")
    }

    @Test func anUnknownNameListsTheValidOnes() {
        #expect(throws: ProfileError.self) { try ProfileCatalog.select(name: "turbo", system: Machines.skylake) }
        do {
            _ = try ProfileCatalog.select(name: "turbo", system: Machines.skylake)
        } catch {
            let text = error.description
            #expect(text.contains("unknown profile 'turbo'") && text.contains("cpu-avx2-latency") && text.contains("cpu-generic-throughput"))
            #expect(!text.contains("cpu-avx512vnni"), "only profiles valid here are offered: \(text)")
            #expect(!text.contains("\n"))
        }
    }

    @Test func anIncompatibleNameSaysWhy() {
        do {
            _ = try ProfileCatalog.select(name: "cpu-avx512vnni-latency", system: Machines.skylake)
            Issue.record("an AVX-512 VNNI profile was accepted on a CPU without VNNI")
        } catch {
            guard case .incompatible(let name, let reason, _) = error else { Issue.record("\(error)"); return }
            #expect(name == "cpu-avx512vnni-latency")
            #expect(reason.contains("AVX-512 VNNI") && reason.contains("lacks") && reason.contains("avx512_vnni"))
            #expect(!reason.contains("avx512bw"), "features the CPU has are not called missing: \(reason)")
        }
    }

    @Test func compatibilityFollowsTheKernelPaths() {
        #expect(ProfileCatalog.compatible(on: Machines.avx512).count == ProfileCatalog.all(threads: 8).count)
        #expect(ProfileCatalog.compatible(on: Machines.arm).allSatisfy { $0.kernelPath == .scalar })
        let avx2 = ProfileCatalog.all(threads: 4).first { $0.kernelPath == .avx2 }
        let reason = avx2.flatMap { ProfileCatalog.incompatibility(of: $0, on: Machines.arm) } ?? ""
        #expect(reason.contains("x86-64") && reason.contains("aarch64"))
        // Flags present but the kernels' cpuid check failed: the OS has not enabled the registers.
        var noOS = Machines.avx512
        noOS.kernelPaths = [.scalar, .avx2]
        let vnni = ProfileCatalog.all(threads: 4).first { $0.kernelPath == .avx512vnni }
        #expect((vnni.flatMap { ProfileCatalog.incompatibility(of: $0, on: noOS) } ?? "").contains("OS"))
    }

    @Test func theKernelChoicePrefersTheForcedThenTheRequestedPath() {
        let all: [KernelPath] = [.scalar, .avx2, .avx512vnni]
        #expect(KernelPath.choose(forced: nil, requested: nil, supported: all) == .avx512vnni)
        #expect(KernelPath.choose(forced: nil, requested: .avx2, supported: all) == .avx2)
        #expect(KernelPath.choose(forced: "scalar", requested: .avx2, supported: all) == .scalar)
        #expect(KernelPath.choose(forced: "bogus", requested: .avx2, supported: all) == .avx2)
        #expect(KernelPath.choose(forced: nil, requested: .avx512vnni, supported: [.scalar, .avx2]) == .avx2)
    }
}
