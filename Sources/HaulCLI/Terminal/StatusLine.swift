import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one live line at the bottom of the terminal (the progress bar) and the log lines printed above it.
///
/// Everything that writes to stderr while a bar is shown goes through here: a log line clears the bar, is printed,
/// and the bar is drawn again below it. The width is read again on SIGWINCH (a dispatch signal source, no task) and
/// the line redrawn to fit.
final class StatusLine: Sendable {
    /// The process's status line (stderr).
    static let shared = StatusLine()

    private struct State {
        var render: (@Sendable (Int) -> String)?
        var columns = TerminalSize.columns()
        var drawnWidth = 0
        var resize: (any DispatchSourceSignal)?
    }
    private let state = Mutex(State())

    /// Draws (or redraws) the line; `render` makes it for a width in columns.
    func show(_ render: @escaping @Sendable (Int) -> String) {
        state.withLock { state in
            if state.resize == nil { state.resize = Self.watchResize() }
            state.render = render
            Self.draw(&state, clearing: 0)
        }
    }

    /// Ends the line: the cursor moves below it, and later output no longer redraws it.
    func finish() {
        state.withLock { state in
            if state.drawnWidth > 0 { Self.write("\n") }
            state.render = nil
            state.drawnWidth = 0
            state.resize?.cancel()
            state.resize = nil
        }
    }

    /// Runs `print` (which writes whole lines to stderr) above the line.
    func printAbove(_ print: () -> Void) {
        state.withLock { state in
            guard state.drawnWidth > 0 else { return print() }
            Self.write("\r\u{1B}[K")
            state.drawnWidth = 0
            print()
            Self.draw(&state, clearing: 0)
        }
    }

    private func resized() {
        state.withLock { state in
            let old = state.columns
            state.columns = TerminalSize.columns()
            guard state.render != nil else { return }
            // A line wider than the new width was wrapped by the terminal: clear the rows it took too.
            let rows =
                state.columns < old && state.drawnWidth > state.columns ? (state.drawnWidth - 1) / state.columns : 0
            Self.draw(&state, clearing: rows)
        }
    }

    private static func draw(_ state: inout State, clearing rows: Int) {
        guard let render = state.render else { return }
        let line = render(state.columns)
        write("\r" + (rows > 0 ? "\u{1B}[\(rows)A\u{1B}[J" : "") + line + "\u{1B}[K")
        state.drawnWidth = line.count
    }

    private static func watchResize() -> any DispatchSourceSignal {
        signal(SIGWINCH, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
        source.setEventHandler { StatusLine.shared.resized() }
        source.resume()
        return source
    }

    private static func write(_ text: String) { printError(text) }
}
