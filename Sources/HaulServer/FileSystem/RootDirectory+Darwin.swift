#if canImport(Darwin)
import Darwin

extension stat {
    /// `st_mtimespec` as seconds and nanoseconds.
    var modificationTime: (seconds: Int, nanoseconds: Int) { (Int(st_mtimespec.tv_sec), Int(st_mtimespec.tv_nsec)) }
}
#endif
