import NimbusKernels

/// A profile name that cannot be used here; start-up stops with this one line.
public enum ProfileError: Error, Equatable, CustomStringConvertible {
    /// No profile has this name.
    case unknown(name: String, valid: [String])
    /// The profile exists but this CPU cannot run its kernel path.
    case incompatible(name: String, reason: String, valid: [String])

    public var description: String {
        switch self {
        case .unknown(let name, let valid):
            "unknown profile '\(name)'; valid here: \(valid.joined(separator: ", ")) (see `nimbus list-profiles`)"
        case .incompatible(let name, let reason, let valid):
            "profile '\(name)' is incompatible with this machine: \(reason); valid here: \(valid.joined(separator: ", "))"
        }
    }
}

/// The profile in force and how it was chosen.
public struct ProfileSelection: Sendable, Equatable {
    public let profile: Profile
    /// True when NIM_MODEL_PROFILE (or `--profile`) named it; false when chosen automatically.
    public let requested: Bool
}

extension ProfileCatalog {
    /// NIM's generic goal names, resolved to the fastest compatible path with that goal.
    static let goalAliases: [String: ProfileGoal] = [
        "throughput": .throughput, "throughput-optimized": .throughput,
        "latency": .latency, "latency-optimized": .latency,
    ]

    /// The kernel path NIMBUS_KERNELS forces, if it names one (the kernels read the same variable).
    public static func kernelOverride(_ environment: [String: String]) -> KernelPath? {
        environment["NIMBUS_KERNELS"].flatMap { KernelPath(rawValue: $0.lowercased()) }
    }

    /// Why `profile` cannot run on `system`, or nil when it can.
    public static func incompatibility(of profile: Profile, on system: SystemInfo) -> String? {
        guard !system.kernelPaths.contains(profile.kernelPath) else { return nil }
        let (feature, flags) = requirements(profile.kernelPath)
        let isX86 = system.architecture == "x86_64" || system.architecture.hasPrefix("i")
        guard isX86 else { return "needs an x86-64 CPU with \(feature); this is \(system.architecture)" }
        let missing = flags.filter { !system.simdFeatures.contains($0) }
        guard !missing.isEmpty else {
            return "needs \(feature); the CPU reports it but the OS has not enabled its registers"
        }
        return "needs \(feature), this CPU lacks it (missing: \(missing.joined(separator: " ")))"
    }

    /// What a kernel path needs, in words and as /proc/cpuinfo flags (what `nk_cpu_features` checks).
    static func requirements(_ path: KernelPath) -> (feature: String, flags: [String]) {
        switch path {
        case .scalar: ("nothing", [])
        case .avx2: ("AVX2 with FMA and F16C", ["avx2", "fma", "f16c"])
        case .avx512vnni: ("AVX-512 VNNI", ["avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni"])
        }
    }

    /// The profiles `system` can run, best first.
    public static func compatible(on system: SystemInfo) -> [Profile] {
        all(threads: system.logicalCores).filter { incompatibility(of: $0, on: system) == nil }
    }

    /// Picks the profile to run.
    /// - Parameters:
    ///   - name: NIM_MODEL_PROFILE: a profile name or a goal (`throughput`, `latency-optimized`...),
    ///     any case; nil or empty picks the best compatible throughput profile.
    ///   - kernelOverride: a kernel path forced by NIMBUS_KERNELS, which the automatic choice follows.
    /// - Throws: `ProfileError` for an unknown name or one this CPU cannot run.
    public static func select(name: String?, system: SystemInfo, kernelOverride: KernelPath? = nil) throws(ProfileError) -> ProfileSelection {
        let profiles = all(threads: system.logicalCores)
        let usable = profiles.filter { incompatibility(of: $0, on: system) == nil }
        let wanted = (name ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let path = kernelOverride.flatMap { system.kernelPaths.contains($0) ? $0 : nil }
        // `all` lists the fastest path first, so the first match is the best.
        func best(_ goal: ProfileGoal) -> Profile? {
            usable.first { $0.goal == goal && (path == nil || $0.kernelPath == path) } ?? usable.first { $0.goal == goal }
        }
        if wanted.isEmpty, let profile = best(.throughput) {
            return ProfileSelection(profile: profile, requested: false)
        }
        if let goal = goalAliases[wanted], let profile = best(goal) {
            return ProfileSelection(profile: profile, requested: true)
        }
        let valid = usable.map(\.name) + goalAliases.keys.sorted()
        guard let profile = profiles.first(where: { $0.name == wanted }) else {
            throw .unknown(name: name ?? "", valid: valid)
        }
        if let reason = incompatibility(of: profile, on: system) {
            throw .incompatible(name: profile.name, reason: reason, valid: valid)
        }
        return ProfileSelection(profile: profile, requested: true)
    }
}
