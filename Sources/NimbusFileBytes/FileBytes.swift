#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file read into memory the process owns, for the weight readers.
///
/// A model file mapped with `mmap` (even `MAP_PRIVATE`) is still backed by the file: if anyone
/// truncates it while it is served, the next touch of a page past the new end raises SIGBUS and
/// kills the server. Reading the bytes once at load costs a sequential read, and afterwards
/// nothing done to the file on disk can reach the running process. The price is memory the
/// kernel cannot reclaim: a mapped file's pages are resident while served too, but clean and
/// droppable under pressure, and where the model also keeps converted copies (the blocked-order
/// layout on AVX-512 hosts, `NIM_QUANTIZATION`) the file's bytes are now held beside them. The
/// memory is an anonymous mapping, advised for transparent huge pages, so the weights streamed
/// by every decode step do not pay a TLB miss per 4 KiB page.
public final class FileBytes: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer

    /// Why a file could not be read; `reason` is one line for the caller's error.
    public struct ReadError: Error, Equatable {
        public let reason: String
    }

    /// Maps the file at `path` read-only instead of reading it, so only the pages touched are
    /// read: for commands that read a header and exit (`nimbus list-models`), never for serving
    /// (a file truncated meanwhile faults on the next touch past its end).
    public init(mappingHeadersOf path: String) throws(ReadError) {
        let (fd, size) = try Self.openRegularFile(path)
        defer { close(fd) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw ReadError(reason: "cannot map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// Reads the file at `path`, checking that its size did not change while it was read.
    public init(path: String) throws(ReadError) {
        let (fd, size) = try Self.openRegularFile(path)
        defer { close(fd) }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
            throw ReadError(reason: "cannot allocate \(size) bytes: \(String(cString: strerror(errno)))")
        }
        #if os(Linux)
        _ = madvise(base, size, MADV_HUGEPAGE)
        #endif
        var done = 0
        while done < size {
            let n = pread(fd, base + done, min(size - done, 64 << 20), off_t(done))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let reason = n == 0 ? "the file shrank to \(done) bytes while it was read (expected \(size))"
                    : String(cString: strerror(errno))
                munmap(base, size)
                throw ReadError(reason: reason)
            }
            done += n
        }
        var after = stat()
        guard fstat(fd, &after) == 0, Int(after.st_size) == size else {
            munmap(base, size)
            throw ReadError(reason: "the file changed size while it was read")
        }
        _ = mprotect(base, size, PROT_READ)
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// An open descriptor and the size of the non-empty regular file at `path`.
    private static func openRegularFile(_ path: String) throws(ReadError) -> (Int32, Int) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ReadError(reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ReadError(reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0 else {
            close(fd)
            throw ReadError(reason: (info.st_mode & S_IFMT) == S_IFREG ? "file is empty" : "not a regular file")
        }
        return (fd, Int(info.st_size))
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
