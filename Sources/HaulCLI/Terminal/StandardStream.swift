#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Standard output or standard error, written with `write(2)`: the one way the CLI prints.
///
/// A closed pipe (`haul pull … 2>&1 | head -1`) ends the process quietly with SIGPIPE, as git does, so the shell
/// sees 141 whatever the signal's disposition: SwiftNIO ignores SIGPIPE for its sockets, and then a write to a
/// closed pipe returns `EPIPE`, which Foundation's `FileHandle.write` turns into a trap. Every other write error
/// (a full disk behind a redirect) drops the text: output is never worth a crash.
struct StandardStream: TextOutputStream, Sendable {
    /// The file descriptor: `STDOUT_FILENO` or `STDERR_FILENO`.
    let descriptor: Int32

    /// Standard output.
    static let output = StandardStream(descriptor: STDOUT_FILENO)
    /// Standard error.
    static let error = StandardStream(descriptor: STDERR_FILENO)

    /// Writes all of `text`, retrying short writes and interruptions.
    func write(_ text: String) {
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                #if canImport(Glibc)
                    Glibc.write(descriptor, buffer.baseAddress! + start, buffer.count - start)
                #else
                    Darwin.write(descriptor, buffer.baseAddress! + start, buffer.count - start)
                #endif
            }
            if written > 0 {
                start += written
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && errno == EPIPE {
                Self.endOnClosedPipe()
            } else {
                return
            }
        }
    }

    /// The reader went away: die of SIGPIPE (exit status 141 in a shell), as a program that never ignored it would.
    static func endOnClosedPipe() -> Never {
        signal(SIGPIPE, SIG_DFL)
        raise(SIGPIPE)
        _exit(141)
    }
}

/// Prints to standard output through ``StandardStream`` (shadows `Swift.print` inside the CLI, so no print can trap
/// or go silently to a closed pipe).
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    var stream = StandardStream.output
    stream.write(items.map { "\($0)" }.joined(separator: separator) + terminator)
}

/// Writes `text` to standard error through ``StandardStream``.
func printError(_ text: String) {
    var stream = StandardStream.error
    stream.write(text)
}
