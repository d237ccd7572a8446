import Foundation
import HaulCore
import HaulTestSupport
import Testing

/// File-system failures read as what happened and what to do: the path the caller named (never a temp file
/// beside it), and a hint that fits the error (a missing file is not a permissions problem).
@Suite("File-system messages")
struct FileSystemMessageTests {
    @Test("writing into a missing folder names the file asked for, not the temp file")
    func atomicWriteNamesTarget() async throws {
        try await withTemporaryDirectory { dir in
            let target = "\(dir)/missing/out.key"
            let error = try #require(throws: HaulError.self) {
                try FileSystem.writeAtomically(Data("x".utf8), to: target)
            }
            #expect(error.message.contains(target) && !error.message.contains(".tmp-"), "\(error.message)")
            #expect(error.message.contains("does not exist") && !error.message.contains("writable"), "\(error.message)")
            #expect(FileSystem.contents(of: dir) == [])
        }
    }

    @Test("a folder path through a file says which component is in the way")
    func folderThroughFile() async throws {
        try await withTemporaryDirectory { dir in
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(dir)/file"))
            let error = try #require(throws: HaulError.self) { try FileSystem.createDirectory("\(dir)/file/store") }
            #expect(error.code == .fileSystem)
            #expect(error.message.hasPrefix("\(dir)/file exists and is not a folder"), "\(error.message)")
            try FileSystem.createDirectory("\(dir)/a/b/c", permissions: [.ownerReadWriteExecute])
            #expect(FileSystem.isDirectory("\(dir)/a/b/c"))
            try FileSystem.createDirectory("\(dir)/a/b/c")  // already a folder: fine
        }
    }

    @Test("reading a signing key that is not there says so and how to make one")
    func missingKey() async throws {
        try await withTemporaryDirectory { dir in
            let error = try #require(throws: HaulError.self) { try SigningKey.read(from: "\(dir)/none.key") }
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("Cannot read the signing key \(dir)/none.key (No such file or directory)"))
            #expect(error.message.contains("haul keygen --out"))
        }
    }
}
