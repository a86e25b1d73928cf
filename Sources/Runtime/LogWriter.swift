import Glibc

/// Log lines off the event loop: `enqueue` never blocks on the output (only on a short mutex);
/// a writer thread does the blocking writes. A reader that stalls (pipe full) or dies (EPIPE;
/// SIGPIPE is ignored) costs log lines, never the loop: when the queue is full, lines are
/// dropped and counted, and one line says how many once writing works again.
public final class LogWriter: @unchecked Sendable {
    enum Entry {
        case line(String)
        case dropped(Int)
    }

    /// Queued lines at most; beyond that, lines are dropped.
    public let capacity: Int
    private let fileDescriptor: Int32
    /// Formats the line that reports `n` dropped lines (in the log's own format).
    private let droppedNotice: (Int) -> String
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var entries: [Entry] = []
    /// Lines dropped since the last notice.
    private var dropped = 0
    /// Entries the writer took and has not finished writing.
    private var writing = 0
    private var droppedCount: UInt64 = 0

    /// Lines dropped since the start (queue full, or the output failed).
    public var droppedTotal: UInt64 {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return droppedCount
    }

    /// Starts the writer thread. It runs until the process exits, with every signal blocked,
    /// so SIGTERM/SIGHUP still reach the event loop's signalfd.
    public init(fileDescriptor: Int32 = STDERR_FILENO, capacity: Int = 4096, droppedNotice: @escaping (Int) -> String) {
        self.fileDescriptor = fileDescriptor
        self.capacity = capacity
        self.droppedNotice = droppedNotice
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        if pthread_create(&thread, nil, { context in
            Unmanaged<LogWriter>.fromOpaque(context!).takeUnretainedValue().writeForever()
            return nil
        }, context) == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<LogWriter>.fromOpaque(context).release()
        }
    }

    /// Queues one line (with its newline); drops it if the queue is full.
    public func enqueue(_ line: String) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard entries.count < capacity else {
            dropped += 1
            droppedCount += 1
            return
        }
        if dropped > 0 {
            entries.append(.dropped(dropped))
            dropped = 0
        }
        entries.append(.line(line))
        pthread_cond_broadcast(changed)
    }

    /// Waits until everything queued is written, at most `timeoutSeconds` (at exit: a stalled
    /// reader must not hold the agent). True when all was written.
    @discardableResult
    public func flush(timeoutSeconds: Double) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanoseconds = Int(deadline.tv_nsec) + Int(timeoutSeconds * 1e9)
        deadline.tv_sec += nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !entries.isEmpty || writing > 0 || dropped > 0 {
            if pthread_cond_timedwait(changed, mutex, &deadline) == ETIMEDOUT { return false }
        }
        return true
    }

    private func writeForever() {
        while true {
            pthread_mutex_lock(mutex)
            while entries.isEmpty && dropped == 0 { pthread_cond_wait(changed, mutex) }
            var batch = entries
            entries.removeAll(keepingCapacity: true)
            if batch.isEmpty {
                // Writing works again and nothing new came: say what was lost now.
                batch = [.dropped(dropped)]
                dropped = 0
            }
            writing = batch.count
            pthread_mutex_unlock(mutex)

            var text = ""
            for entry in batch {
                switch entry {
                case .line(let line): text += line
                case .dropped(let count): text += droppedNotice(count)
                }
            }
            let complete = writeAll(Array(text.utf8))

            pthread_mutex_lock(mutex)
            writing = 0
            if !complete {
                // The reader is gone (EPIPE) or the output broken: count what was lost.
                let lost = batch.reduce(0) { if case .line = $1 { return $0 + 1 } else { return $0 } }
                dropped += lost
                droppedCount += UInt64(lost)
            }
            pthread_cond_broadcast(changed)
            pthread_mutex_unlock(mutex)
            if !complete { waitBeforeRetrying() }
        }
    }

    /// Blocking writes; a non-blocking descriptor (shared with another process) is waited on.
    private func writeAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fileDescriptor, $0.baseAddress, $0.count) }
            if written >= 0 {
                offset += written
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN:
                var entry = pollfd(fd: fileDescriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&entry, 1, -1)
            default: return false
            }
        }
        return true
    }

    /// After a failed write, a pause so a dead reader does not make this thread spin.
    private func waitBeforeRetrying() {
        var pause = timespec(tv_sec: 0, tv_nsec: 200_000_000)
        nanosleep(&pause, nil)
    }
}
