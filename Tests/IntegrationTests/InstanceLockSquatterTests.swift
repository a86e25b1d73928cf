// Issue 11 item 3, hardened (root only): the single-instance lock is an abstract Unix socket
// name, which any local user can bind. A holder that could not be an agent (no CAP_NET_ADMIN,
// or another user namespace) is a squatter: the agent names it, starts anyway and steers.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class InstanceLockSquatterTests: IntegrationTestCase {
    private var squatter: BackgroundProcess?
    /// The child that keeps a handed-on lock socket (the third test).
    private var heir: Int32?

    override func tearDown() {
        // By PID, before the testbed goes (which would kill them too).
        if let squatter, squatter.isRunning { kill(squatter.pid, SIGKILL) }
        if let heir { kill(heir, SIGKILL) }
        squatter = nil
        heir = nil
        super.tearDown()
    }

    func testAnUnprivilegedSquatterOnTheLockNameDoesNotStopTheAgent() throws {
        let tb = try makeTestbed(withVF: true)
        let holder = try squat(tb, Self.asNobody)

        let (a, line) = try startBesideSquatter(tb)
        XCTAssertTrue(line.contains("error"), line)
        XCTAssertTrue(line.contains("pid \(holder.pid) uid 65534"), line)
        XCTAssertTrue(line.contains("CAP_NET_ADMIN"), "says why it is not an agent: \(line)")
        XCTAssertTrue(line.contains("would not be detected"), line)
        XCTAssertTrue(line.contains("ss -xap src @hnagent"), "says how to find it: \(line)")
        XCTAssertTrue(holder.isRunning)

        let status = try a.statusJSON()
        let agentStatus = try XCTUnwrap(status["agent"] as? [String: Any])
        XCTAssertEqual(agentStatus["instance_lock"] as? String, "squatted by pid \(holder.pid) uid 65534")
        let text = try a.control(["status"])
        XCTAssertTrue(text.stdout.contains("INSTANCE LOCK: squatted by pid \(holder.pid) uid 65534"), text.stdout)
        XCTAssertTrue(try a.control(["metrics"]).stdout.contains("\nhnagent_instance_lock_squatted 1\n"))

        // What the warning says to do: stop the squatter; the running agent takes the lock back.
        let mark = a.logMark()
        XCTAssertEqual(kill(holder.pid, SIGKILL), 0)
        try tb.waitUntil(timeout: 10, "the squatter is gone") { !holder.isRunning }
        let taken = try a.waitForLog("took the single-instance lock @hnagent", timeout: 15, since: mark)
        XCTAssertTrue(taken.contains("detected again"), taken)
        let lock = try XCTUnwrap(a.statusJSON()["agent"] as? [String: Any])["instance_lock"] as? String
        XCTAssertEqual(lock, "held")
        XCTAssertTrue(try a.control(["metrics"]).stdout.contains("\nhnagent_instance_lock_squatted 0\n"))
        XCTAssertTrue(try tb.steeringInstalled(), "steering went on throughout")
        XCTAssertEqual(a.stop(), 0)
    }

    /// `unshare -r` gives an unprivileged user every capability, but only in a user namespace of
    /// its own, where CAP_NET_ADMIN does not reach this network namespace.
    func testASquatterWithCapabilitiesInItsOwnUserNamespaceDoesNotStopTheAgent() throws {
        let tb = try makeTestbed(withVF: true)
        let holder = try squat(tb, Self.asNobody + ["unshare", "--user", "--map-root-user"])

        let (a, line) = try startBesideSquatter(tb)
        XCTAssertTrue(line.contains("pid \(holder.pid) uid 65534"), line)
        XCTAssertTrue(line.contains("another user namespace"), line)
        XCTAssertEqual(a.stop(), 0)
    }

    /// The process that bound and listened (the PID SO_PEERCRED reports) forks and exits; its
    /// child keeps the socket. No /proc entry is left to read, yet no agent ever does that.
    /// (The listener is a grandchild, reaped by the spawned python, so it is really gone.)
    func testASquatterThatHandsTheSocketToAChildAndExitsDoesNotStopTheAgent() throws {
        let tb = try makeTestbed(withVF: true)
        let script = """
            import os, socket, time
            r, w = os.pipe()
            listener = os.fork()
            if listener == 0:
                s = socket.socket(socket.AF_UNIX); s.bind('\\0hnagent'); s.listen()
                heir = os.fork()
                if heir: os.write(w, str(heir).encode()); os._exit(0)
                time.sleep(1e9)
            os.waitpid(listener, 0)
            print('listener', listener, 'heir', os.read(r, 32).decode(), flush=True)
            time.sleep(1e9)
            """
        let spawned = try tb.spawn(tb.guest, Self.asNobody + ["/usr/bin/python3", "-c", script])
        squatter = spawned
        var listener: Int32?
        try tb.waitUntil(timeout: 10, "the listener handed its socket on and exited") {
            let words = spawned.stdout.text.split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.count == 4 else { return false }
            listener = Int32(words[1])
            heir = Int32(words[3])
            return true
        }
        let gone = try XCTUnwrap(listener)
        let child = try XCTUnwrap(heir)
        XCTAssertEqual(kill(gone, 0), -1, "the listener is gone")
        XCTAssertEqual(kill(child, 0), 0, "the heir holds the name")

        let (a, line) = try startBesideSquatter(tb)
        XCTAssertTrue(line.contains("pid \(gone) uid 65534"), line)
        XCTAssertTrue(line.contains("is gone"), line)
        XCTAssertTrue(line.contains("ss -xap src @hnagent"), "says how to find the process that holds it now: \(line)")
        XCTAssertEqual(a.stop(), 0)
    }

    /// Bound but not listening: nobody can connect to learn who it is, but an agent listens
    /// right after it binds, so a name that refuses connections for a while is no agent's.
    func testASquatterThatBindsWithoutListeningDoesNotStopTheAgent() throws {
        let tb = try makeTestbed(withVF: true)
        _ = try squat(tb, Self.asNobody, then: "")

        let (a, line) = try startBesideSquatter(tb)
        XCTAssertTrue(line.contains("does not listen"), line)
        XCTAssertTrue(line.contains("ss -xap src @hnagent"), line)
        let agentStatus = try XCTUnwrap(a.statusJSON()["agent"] as? [String: Any])
        XCTAssertEqual(agentStatus["instance_lock"] as? String, "squatted by a socket that does not listen")
        XCTAssertEqual(a.stop(), 0)
    }

    /// Listening with a queue of one that it fills itself and never accepts: no connection, no
    /// SO_PEERCRED. An agent accepts and its queue holds thousands, so a queue that stays full
    /// is no agent's.
    func testASquatterWhoseQueueStaysFullDoesNotStopTheAgent() throws {
        let tb = try makeTestbed(withVF: true)
        _ = try squat(tb, Self.asNobody, then: "s.listen(0); c=socket.socket(socket.AF_UNIX); c.connect('\\0hnagent'); ")

        let (a, line) = try startBesideSquatter(tb)
        XCTAssertTrue(line.contains("accepts no connections"), line)
        XCTAssertTrue(line.contains("ss -xap src @hnagent"), line)
        XCTAssertEqual(a.stop(), 0)
    }

    /// With the unit's privileges (CAP_NET_ADMIN and CAP_NET_RAW only, /proc mounted
    /// hidepid=invisible as ProtectProc=invisible does) the agent cannot read the squatter's
    /// /proc/PID/ns/user (that needs CAP_SYS_PTRACE); its uid_map still tells it apart.
    func testWithTheUnitsPrivilegesASquatterInItsOwnUserNamespaceIsStillRecognised() throws {
        let tb = try makeTestbed(withVF: true)
        let holder = try squat(tb, Self.asNobody + ["unshare", "--user", "--map-root-user"])
        let dir = try scratchDirectory("hnagent-squat")
        let confined = "mount -t proc -o hidepid=invisible proc /proc && "
            + "exec setpriv --bounding-set -all,+net_admin,+net_raw --inh-caps -all \"$0\" \"$@\""
        // `exec` all the way down: the spawned PID is hnagent's own.
        let a = try tb.spawn(tb.guest, ["unshare", "--mount", "--propagation", "private", "sh", "-c", confined,
                                        try AgentProcess.binaryURL().path, "run"] + AgentProcess.testbedPairing
                                        + ["--settle", "0.5", "--state-file", tb.stateFile,
                                           "--control-socket", dir.appendingPathComponent("hnagent.sock").path])
        try tb.waitUntil(timeout: startTimeout, "ready: mode= \(a.stderr.text)") {
            if !a.isRunning { throw TestbedError("the agent exited: \(a.stderr.text)") }
            return a.stderr.text.contains("ready: mode=")
        }
        try tb.waitUntil(timeout: steerTimeout, "steering filters on vf0 ingress and hn0 egress") { try tb.steeringInstalled() }
        let log = a.stderr.text
        XCTAssertTrue(log.contains("squatted by pid \(holder.pid) uid 65534 (it runs in another user namespace"), log)
        XCTAssertEqual(a.terminate(timeout: 10), 0, log)
    }

    /// Starts the agent, checks that it steers (kernel state), and returns its squatter warning.
    private func startBesideSquatter(_ tb: Testbed) throws -> (AgentProcess, String) {
        let a = try startAgent(tb)
        try tb.waitUntil(timeout: steerTimeout, "steering filters on vf0 ingress and hn0 egress") { try tb.steeringInstalled() }
        return (a, try a.waitForLog("squatted", timeout: 1))
    }

    private static let asNobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]

    /// A process in the guest namespace that binds "\0hnagent" and then runs `then` (listen,
    /// by default), started through `prefix`, which execs, so its PID is the one SO_PEERCRED
    /// reports; returns once it holds the name.
    private func squat(_ tb: Testbed, _ prefix: [String], then: String = "s.listen(); ") throws -> BackgroundProcess {
        let script = "import socket,time; s=socket.socket(socket.AF_UNIX); s.bind('\\0hnagent'); "
            + then + "print('listening', flush=True); time.sleep(1e9)"
        let holder = try tb.spawn(tb.guest, prefix + ["/usr/bin/python3", "-c", script])
        squatter = holder
        try tb.waitUntil(timeout: 10, "the squatter listens on @hnagent") {
            if !holder.isRunning { throw TestbedError("the squatter exited: \(holder.stderr.text)") }
            return holder.stdout.text.contains("listening")
        }
        return holder
    }
}
