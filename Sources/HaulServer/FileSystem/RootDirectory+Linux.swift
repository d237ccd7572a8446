#if os(Linux)
import Glibc

extension stat {
    /// `st_mtim` as seconds and nanoseconds.
    var modificationTime: (seconds: Int, nanoseconds: Int) { (Int(st_mtim.tv_sec), Int(st_mtim.tv_nsec)) }
}
#endif
