/// Routing: which part of a model serves a case, by the modalities it has.
extension SegmentationModel {
    /// Which part of the network serves a case, given its available modalities. One name
    /// per route and language: `branchA` here, `CMF_ROUTE_BRANCH_A` in C, `"branch_a"` in
    /// Python; the branch's weights are the `net_0.*` tensors.
    public enum Route: Equatable, Sendable {
        /// CMFF with all four modalities: the fused softmax.
        case fused
        /// CMFF with only pair A (`net_0`): that branch's softmax alone.
        case branchA
        /// CMFF with only pair B (`net_1`): that branch's softmax alone.
        case branchB
        /// A single-network baseline (single pair or 4 modalities).
        case single
    }

    /// The route for `available` modalities: CMFF prefers the fusion, then branch A (pair A),
    /// then branch B (pair B) — the CMFF branches are full segmenters; baselines need all
    /// their inputs.
    /// - Throws: `CMFError.invalidArgument` naming the missing modalities.
    public func route(available: Set<Modality>) throws -> Route {
        let have = { (ms: [Modality]) in ms.allSatisfy(available.contains) }
        switch network.body {
        case .cmff:
            if have(pairs[0] + pairs[1]) { return .fused }
            if have(pairs[0]) { return .branchA }
            if have(pairs[1]) { return .branchB }
            throw CMFError.invalidArgument("the CMFF model needs \(names(pairs[0])) or \(names(pairs[1])); available: \(names(Modality.allCases.filter(available.contains)))")
        default:
            guard have(pairs[0]) else {
                let missing = pairs[0].filter { !available.contains($0) }
                throw CMFError.invalidArgument("the \(network.architecture.rawValue) model needs \(names(pairs[0])); missing: \(names(missing))")
            }
            return .single
        }
    }

    /// The modalities a route reads, in input-channel order.
    func modalities(_ route: Route) -> [Modality] {
        switch route {
        case .fused: return pairs[0] + pairs[1]
        case .branchA, .single: return pairs[0]
        case .branchB: return pairs[1]
        }
    }

    /// Human-readable description of a route, for output metadata and logs.
    public func describe(_ route: Route) -> String {
        guard pairs.count == 2 || route == .single else {
            return "\(route) (not a route of this \(network.architecture.rawValue) model)"
        }
        switch route {
        case .fused: return "CMFF fusion of \(names(pairs[0])) and \(names(pairs[1]))"
        case .branchA: return "CMFF branch net_0 alone (\(names(pairs[0])); \(names(pairs[1])) unavailable)"
        case .branchB: return "CMFF branch net_1 alone (\(names(pairs[1])); \(names(pairs[0])) unavailable)"
        case .single: return "\(network.architecture.rawValue) on \(names(pairs[0]))"
        }
    }
}

private func names(_ ms: [Modality]) -> String { ms.map(\.rawValue).joined(separator: "+") }
