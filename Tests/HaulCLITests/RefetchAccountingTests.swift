import HaulTestSupport
import Testing

/// The accounting behind the kill soak's "fetched again per kill" figure, and the nginx log lines it reads.
@Suite("Refetch accounting")
struct RefetchAccountingTests {
    typealias Response = (path: String, range: Range<Int64>)

    @Test(
        "bytes of a run sent again later count for that run; bytes sent twice within a run count apart",
        arguments: [
            // One run: nothing later, so nothing fetched again.
            ([[("/a", 0..<100)]], [RefetchAccounting.Run(sent: 100, fetchedAgain: 0, duplicatedWithin: 0)]),
            // The second run re-sends 50 bytes of the first, and bytes of another blob.
            (
                [[("/a", 0..<100)], [("/a", 50..<150), ("/b", 0..<10)]],
                [
                    RefetchAccounting.Run(sent: 100, fetchedAgain: 50, duplicatedWithin: 0),
                    RefetchAccounting.Run(sent: 110, fetchedAgain: 0, duplicatedWithin: 0),
                ]
            ),
            // A byte sent again in two later runs counts once, for the run that lost it, and again for the middle run.
            (
                [[("/a", 0..<10)], [("/a", 0..<10)], [("/a", 0..<10)]],
                [
                    RefetchAccounting.Run(sent: 10, fetchedAgain: 10, duplicatedWithin: 0),
                    RefetchAccounting.Run(sent: 10, fetchedAgain: 10, duplicatedWithin: 0),
                    RefetchAccounting.Run(sent: 10, fetchedAgain: 0, duplicatedWithin: 0),
                ]
            ),
            // Overlapping responses within a run; the same range of another path is not the same bytes.
            (
                [[("/a", 0..<10), ("/a", 5..<15), ("/b", 0..<10)], [("/b", 0..<4)]],
                [
                    RefetchAccounting.Run(sent: 30, fetchedAgain: 4, duplicatedWithin: 5),
                    RefetchAccounting.Run(sent: 4, fetchedAgain: 0, duplicatedWithin: 0),
                ]
            ),
        ] as [([[(String, Range<Int64>)]], [RefetchAccounting.Run])])
    func account(runs: [[(String, Range<Int64>)]], expected: [RefetchAccounting.Run]) {
        let typed = runs.map { $0.map { Response(path: $0.0, range: $0.1) } }
        #expect(RefetchAccounting.account(typed) == expected)
    }

    @Test("nginx log lines parse into records; malformed or hostile ones are skipped")
    func parse() throws {
        let line = #"1796325645.773 0.773 206 /blobs/sha256/0c1d "bytes=2213480-4194303" 1051032"#
        let record = try #require(MeasuredNginx.Record(line: line[...]))
        #expect(record.status == 206 && record.path == "/blobs/sha256/0c1d" && record.isBlob)
        #expect(record.sentRange == 2_213_480..<(2_213_480 + 1_051_032))
        #expect(abs(record.start - 1_796_325_645.0) < 0.001)
        #expect(MeasuredNginx.Record(line: #"1.0 0.0 200 /index.json "-" 433"#)?.sentRange == 0..<433)
        for bad in [
            "", "garbage", #"1.0 0.0 200 /x "-" -5"#, #"1.0 0.0 200 /x "bytes=9223372036854775807-" 10"#,
            #"nan 0.0 200 /x "-" 1"#, #"1.0 0.0 200 /x "-""#,
        ] {
            #expect(MeasuredNginx.Record(line: bad[...]) == nil, "\(bad)")
        }
    }
}
