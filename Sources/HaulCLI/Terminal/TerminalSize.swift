import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The width of the terminal the progress bar draws on.
enum TerminalSize {
    /// The width assumed when neither the terminal nor `COLUMNS` says.
    static let fallbackColumns = 80

    /// Columns of the terminal on `descriptor` (TIOCGWINSZ), else `$COLUMNS`, else 80.
    static func columns(of descriptor: Int32 = STDERR_FILENO) -> Int {
        if let columns = windowColumns(descriptor) { return columns }
        return parse(ProcessInfo.processInfo.environment["COLUMNS"]) ?? fallbackColumns
    }

    /// `COLUMNS` as a width: digits only, 1...10000 (anything else is ignored).
    static func parse(_ text: String?) -> Int? {
        guard let text, (1...5).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let value = Int(text), (1...10_000).contains(value)
        else { return nil }
        return value
    }

    private static func windowColumns(_ descriptor: Int32) -> Int? {
        var size = winsize()
        #if os(Linux)
            let request = UInt(TIOCGWINSZ)
        #else
            let request = TIOCGWINSZ
        #endif
        guard ioctl(descriptor, request, &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
