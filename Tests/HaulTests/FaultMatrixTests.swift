import Foundation
import Haul
import HaulServer
import HaulTestSupport
import Testing

/// Server-side faults × offsets × {1, 8} connections: every pull ends exactly right or with a clear `HaulError`,
/// never with wrong bytes visible. CI runs two offsets per kind; `HAUL_FAULT_MATRIX=full` (or
/// `Scripts/reliability/fault-matrix.sh`) runs all ten.
@Suite("Reliability: the fault matrix", .timeLimit(.minutes(10)))
struct FaultMatrixTests {
    /// What a run must end with.
    enum Expected: String, Sendable {
        case exact, clearError = "clear error", either = "exact or clear error"
    }

    /// How one run ended.
    enum Outcome: Hashable, Sendable {
        case exact
        case clearError(String)
        /// Not a `HaulError`, or a `HaulError` without a message.
        case unclear(String)
        /// Wrong bytes visible in the store (the one outcome that may never happen).
        case wrong(String)

        var column: String {
            switch self {
            case .exact: "exact"
            case .clearError: "clear error"
            case .unclear: "unclear"
            case .wrong: "WRONG"
            }
        }
    }

    /// Where a fault applies in one run: the offset's number (0…9), the offset in bytes, the blob's URL path.
    struct Place: Sendable {
        var index: Int
        var offset: Int64
        var blob: String
    }

    /// A row of the matrix: a fault kind and the plan of each origin for one run (two plans: a mirror set).
    struct Kind: Sendable {
        var name: String
        var expected: Expected
        /// The offsets (numbers into ``offsets``) CI runs; the full matrix runs all ten. Slow kinds run one.
        var ciOffsets: [Int] = [1, 6]
        var plans: @Sendable (Place) -> [FaultPlan]
    }

    static func on(_ place: Place, _ fault: FaultPlan.Fault, times: Int? = nil) -> [FaultPlan] {
        [FaultPlan([.init(pathContains: place.blob, fault, times: times)])]
    }

    /// Every fault kind `FaultPlan` offers but the one-byte drip (at a rate a test can afford it only slows a piece
    /// down, which "drip" and "slow mirror" already cover).
    static let kinds: [Kind] = [
        Kind(name: "reset once", expected: .exact) { on($0, .dropConnection(afterBytes: $0.offset), times: 1) },
        Kind(name: "truncate every response", expected: .either) { on($0, .dropConnection(afterBytes: $0.offset)) },
        Kind(name: "flip a byte once", expected: .exact) { on($0, .corruptByte(at: $0.offset), times: 1) },
        Kind(name: "flip a byte always", expected: .clearError) { on($0, .corruptByte(at: $0.offset)) },
        Kind(name: "ignore Range", expected: .exact) { on($0, .ignoreRange) },
        Kind(name: "wrong Content-Range", expected: .exact) {
            on($0, .wrongContentRange(shift: max(1, $0.offset)), times: 1)
        },
        Kind(name: "stall mid-body", expected: .exact, ciOffsets: [6]) {
            on($0, .stall(afterBytes: $0.offset, seconds: 2), times: 1)
        },
        Kind(name: "stall at the first body byte", expected: .exact, ciOffsets: [6]) {
            on($0, .stall(afterBytes: 0, seconds: 2), times: $0.index % 3 + 1)
        },
        Kind(name: "drip", expected: .exact) {
            on($0, .throttle(bytesPerSecond: Int64($0.index + 1) << 20), times: 1)
        },
        Kind(name: "429 + Retry-After", expected: .exact, ciOffsets: [6]) {
            on($0, .status(429, retryAfter: 1), times: $0.index % 3 + 1)
        },
        Kind(name: "503 + Retry-After", expected: .exact, ciOffsets: [6]) {
            on($0, .status(503, retryAfter: 1), times: $0.index % 3 + 1)
        },
        Kind(name: "500", expected: .either) { on($0, .status(500), times: $0.index + 1) },
        Kind(name: "ETag change", expected: .either) {
            on($0, .changeETag("changed-\($0.index)"), times: $0.index + 1)
        },
        Kind(name: "redirect", expected: .exact) { on($0, .redirect(to: $0.blob), times: $0.index % 5 + 1) },
        Kind(name: "redirect loop", expected: .clearError) { on($0, .redirect(to: $0.blob)) },
        Kind(name: "redirect loop, new URL each hop", expected: .clearError, ciOffsets: [6]) { on($0, .redirectLoop) },
        Kind(name: "endless 404 body", expected: .clearError, ciOffsets: [6]) {
            on($0, .endlessBody(status: 404, bytesPerSecond: 4 << 20))
        },
        Kind(name: "endless 500 body", expected: .either, ciOffsets: [6]) {
            on($0, .endlessBody(status: 500, bytesPerSecond: 4 << 20), times: $0.index % 3 + 1)
        },
        Kind(name: "endless 304 body", expected: .either, ciOffsets: [6]) {
            on($0, .endlessBody(status: 304, bytesPerSecond: 4 << 20), times: $0.index % 3 + 1)
        },
        Kind(name: "endless 200 body", expected: .either, ciOffsets: [6]) {
            on($0, .endlessBody(status: 200, bytesPerSecond: 16 << 20), times: $0.index % 3 + 1)
        },
        Kind(name: "extra bytes after the body", expected: .either) {
            on($0, .extraBytes(Int($0.offset % 65_536) + 1), times: $0.index % 3 + 1)
        },
        Kind(name: "stall before the status line", expected: .exact, ciOffsets: [6]) {
            on($0, .stallBeforeFirstByte(seconds: 2), times: 1)
        },
        Kind(name: "slow mirror", expected: .exact, ciOffsets: [9]) { place in
            [
                FaultPlan([.init(pathContains: "/blobs/", .throttle(bytesPerSecond: Int64(place.index + 1) << 16))]),
                FaultPlan(),
            ]
        },
    ]

    static let size = 6 << 20
    static let offsets: [Int64] = [
        0, 1, 4095, 65_536, 262_143, 262_144, 1_048_577, 2 << 20, (3 << 20) + 4097, Int64(size) - 1,
    ]
    static var full: Bool { ProcessInfo.processInfo.environment["HAUL_FAULT_MATRIX"] == "full" }

    @Test("every fault kind × offset × {1, 8} connections ends exact or with a clear error, never with wrong bytes")
    func matrix() async throws {
        try await withTemporaryDirectory { dir in
            let report = try Fixtures.publish(
                repo: "\(dir)/repo", source: "\(dir)/src", name: "m", version: "1",
                files: [("model.bin", Self.size), ("config.json", 3000)])
            let model = try #require(report.manifest.files.first { $0.path.string == "model.bin" })
            let audit = try StoreAudit(source: "\(dir)/src")
            var outcomes: [String: [Outcome]] = [:]
            var seconds: [String: Double] = [:]
            var run = 0
            for kind in Self.kinds {
                for index in Self.full ? Array(Self.offsets.indices) : kind.ciOffsets {
                    for connections in [1, 8] {
                        run += 1
                        let place = Place(
                            index: index, offset: Self.offsets[index], blob: "/blobs/sha256/\(model.sha256.hex)")
                        let began = ContinuousClock.now
                        let outcome = try await Self.run(
                            kind.plans(place), root: "\(dir)/repo", store: "\(dir)/store-\(run)",
                            connections: connections,
                            audit: audit)
                        outcomes[kind.name, default: []].append(outcome)
                        let took = (ContinuousClock.now - began).components
                        seconds[kind.name, default: 0] += Double(took.seconds) + Double(took.attoseconds) / 1e18
                        let what = "\(kind.name), offset \(place.offset), \(connections) connection(s): \(outcome)"
                        if case .wrong = outcome { Issue.record("wrong bytes visible: \(what)") }
                        if case .unclear = outcome { Issue.record("unclear failure: \(what)") }
                        switch (kind.expected, outcome) {
                        case (.exact, .clearError), (.clearError, .exact):
                            Issue.record("expected \(kind.expected.rawValue): \(what)")
                        default: break
                        }
                        try? FileSystem.remove("\(dir)/store-\(run)")
                    }
                }
            }
            print(Self.summary(outcomes, seconds: seconds))
        }
    }

    /// One pull into a fresh `store` from origins with `plans`; checks what is visible afterwards.
    static func run(_ plans: [FaultPlan], root: String, store: String, connections: Int, audit: StoreAudit)
        async throws -> Outcome
    {
        enum Ended: Sendable { case installed, failed(HaulError), other(String) }
        let ended: Ended = try await withOrigins(plans, root: root) { urls in
            try await withTestManager(
                repository: urls, store: store,
                configure: {
                    $0.transfer.pinConnections(to: connections)
                    $0.transfer.stallTimeout = .seconds(1)
                }
            ) { manager in
                do {
                    _ = try await manager.downloadModel("m")
                    return .installed
                } catch let error as HaulError {
                    return .failed(error)
                } catch {
                    return .other("\(error)")
                }
            }
        }
        let problems = try audit.problems(store: store, model: "m")
        if !problems.isEmpty { return .wrong(problems.joined(separator: "; ")) }
        switch ended {
        case .installed:
            return StoreAudit.isInstalled(store: store, model: "m") ? .exact : .wrong("success without an install")
        case .failed(let error) where !error.message.isEmpty:
            if StoreAudit.isInstalled(store: store, model: "m") { return .wrong("failed, yet installed") }
            return .clearError("\(error.code): \(error.message)")
        case .failed(let error):
            return .unclear("\(error)")
        case .other(let error):
            return .unclear(error)
        }
    }

    /// Runs one origin per plan (the first is the repository, the others its mirrors) while `body` runs.
    static func withOrigins<R: Sendable>(
        _ plans: [FaultPlan], root: String, urls: [URL] = [], _ body: @escaping @Sendable ([URL]) async throws -> R
    ) async throws -> R {
        guard let plan = plans.first else { return try await body(urls) }
        let rest = Array(plans.dropFirst())
        return try await withTestOrigin(root: root, faults: plan) { _, url in
            try await withOrigins(rest, root: root, urls: urls + [url], body)
        }
    }

    /// The table printed after a run: outcome counts per kind, the time spent, and the first error's message.
    static func summary(_ outcomes: [String: [Outcome]], seconds: [String: Double]) -> String {
        let columns = ["exact", "clear error", "unclear", "WRONG"]
        func cell(_ text: String, _ width: Int = 12) -> String {
            text.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        var lines = [
            "fault matrix (\(full ? "full" : "CI subset"); each offset with 1 and 8 connections)",
            cell("kind", 30) + (["runs"] + columns + ["seconds"]).map { cell($0) }.joined() + "first error",
        ]
        for kind in kinds {
            let runs = outcomes[kind.name, default: []]
            let counts = columns.map { column in runs.filter { $0.column == column }.count }
            let error = runs.lazy.compactMap { if case .clearError(let text) = $0 { text } else { nil } }.first ?? "-"
            lines.append(
                cell(kind.name, 30) + ([runs.count] + counts).map { cell("\($0)") }.joined()
                    + cell(String(format: "%.1f", seconds[kind.name] ?? 0)) + String(error.prefix(110)))
        }
        let all = outcomes.values.flatMap { $0 }
        lines.append(
            "total: \(all.count) runs; "
                + columns.map { c in "\(c) \(all.filter { $0.column == c }.count)" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
