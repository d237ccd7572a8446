/// Which bytes an origin sent again after a client was killed: a pure accounting over request logs.
///
/// The runs of one soak are consecutive pulls of the same model into the same store. The bytes *fetched again
/// because of* run *k* are the bytes of a blob the origin sent during run *k* that it sends again in any later run:
/// what the kill of run *k* threw away (bytes the client had received but not yet verified and journaled, plus bytes
/// still in socket buffers). Bytes sent twice within one run are not caused by a kill and are counted apart.
package enum RefetchAccounting {
    /// The figures of one run.
    package struct Run: Sendable, Hashable {
        /// Body bytes the origin sent for blobs during the run.
        package var sent: Int64
        /// Of those, bytes sent again in a later run.
        package var fetchedAgain: Int64
        /// Bytes sent more than once within this run.
        package var duplicatedWithin: Int64

        /// Figures with these values.
        package init(sent: Int64, fetchedAgain: Int64, duplicatedWithin: Int64) {
            self.sent = sent
            self.fetchedAgain = fetchedAgain
            self.duplicatedWithin = duplicatedWithin
        }
    }

    /// The figures of each run, in order. `runs[k]` holds the blob responses of run *k*: (path, bytes sent).
    package static func account(_ runs: [[(path: String, range: Range<Int64>)]]) -> [Run] {
        let unions = runs.map { responses -> [String: [Range<Int64>]] in
            Dictionary(grouping: responses, by: \.path).mapValues { merge($0.map(\.range)) }
        }
        var later: [String: [Range<Int64>]] = [:]
        var result: [Run] = []
        for (index, responses) in runs.enumerated().reversed() {
            let sent = responses.reduce(Int64(0)) { $0 + Int64($1.range.count) }
            let distinct = unions[index].values.reduce(Int64(0)) { $0 + measure($1) }
            let again = unions[index].reduce(Int64(0)) { $0 + overlap($1.value, later[$1.key] ?? []) }
            result.append(Run(sent: sent, fetchedAgain: again, duplicatedWithin: sent - distinct))
            for (path, ranges) in unions[index] { later[path] = merge((later[path] ?? []) + ranges) }
        }
        return result.reversed()
    }

    /// Sorted, disjoint ranges covering the same bytes as `ranges`.
    package static func merge(_ ranges: [Range<Int64>]) -> [Range<Int64>] {
        var out: [Range<Int64>] = []
        for range in ranges.filter({ !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, range.lowerBound <= last.upperBound {
                out[out.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                out.append(range)
            }
        }
        return out
    }

    /// Bytes covered by sorted, disjoint `ranges`.
    package static func measure(_ ranges: [Range<Int64>]) -> Int64 { ranges.reduce(0) { $0 + Int64($1.count) } }

    /// Bytes covered by both sorted, disjoint lists.
    package static func overlap(_ a: [Range<Int64>], _ b: [Range<Int64>]) -> Int64 {
        var (i, j, total) = (0, 0, Int64(0))
        while i < a.count, j < b.count {
            let low = max(a[i].lowerBound, b[j].lowerBound), high = min(a[i].upperBound, b[j].upperBound)
            if low < high { total += high - low }
            if a[i].upperBound < b[j].upperBound { i += 1 } else { j += 1 }
        }
        return total
    }
}
