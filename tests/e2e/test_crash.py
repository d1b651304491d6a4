"""A plugin that crashes takes the process down (it runs inside it): the daemon writes a crash
report naming the plugin, stage and pipeline, removes its socket, exits non-zero, and a
restarted daemon serves again."""

import os
import resource
import signal
import subprocess
import sys
import time

from vdtest import VERDICTD, Client, Daemon, policy_dir, run_tests

PLUGINS = os.environ.get("VD_TEST_PLUGINS", "build-test/test-plugins")

POLICY = """
rule "seen" { score = 1, when = function(ev) return true end }
pipeline "orders" { stages = { stage "first" {"seen"}, plugin "crash" { name = "boom" %s } },
                    actions = { review = 5 } }
"""


# The daemons started here inherit this: the tests want the report, not core files.
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class CrashingDaemon(Daemon):
    """A Daemon whose end is a crash: it is waited for, not stopped."""

    def __init__(self, config="", socket=None):
        self.policies = policy_dir({"p.lua": POLICY % config})
        super().__init__(policies=self.policies, socket=socket, expect_start=False,
                         args=["--plugin-dir", PLUGINS, "--workers", "2"])

    def wait_crash(self, timeout=30):
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("verdictd did not exit:\n" + self.output())
        assert code != 0, "verdictd exited 0 after a crash:\n" + self.output()
        return code


def start_crashing(config=""):
    return CrashingDaemon(config)


def assert_report(out, signame, what="score() of stage 'boom' in pipeline 'orders'"):
    assert "verdictd crashed: " + signame in out, out
    assert "in plugin 'crash', " + what in out, out
    assert "crash.so, content xxh3-128 " in out, out
    assert "backtrace" in out and "exiting on " + signame in out, out
    assert "plugin 'crash' 1.0 loaded from" in out and "private copy" in out, out


def crash_with(how, signame, expected_signal):
    vd = start_crashing()
    try:
        vd.wait_ready()
        bystander = Client(vd.socket)
        assert bystander.decide("orders", {})["reasons"][-1]["rule"] == "alive"
        with Client(vd.socket) as c:
            c.send("decide", ["orders", {"crash": how}])
            assert c.expect_closed() == []  # no reply: the process is gone
        code = vd.wait_crash()
        assert code == -expected_signal, (code, vd.output())
        assert bystander.expect_closed() == []  # every connection ends with it
        bystander.close()
        out = vd.output()
        assert_report(out, signame)
        assert "removed the socket " + vd.socket in out, out
        assert not os.path.exists(vd.socket), "the socket file was left behind"
        return vd, out
    except Exception:
        vd.discard()
        raise


def test_segfault_is_reported_and_a_restart_serves():
    vd, out = crash_with("segv", "SIGSEGV", signal.SIGSEGV)
    try:
        assert "address not mapped) at address 0x10" in out, out
        # -rdynamic: the engine's frames carry their names.
        assert "(vd_plugin_call_score+" in out, out
        with Daemon(policies=vd.policies, socket=vd.socket,
                    args=["--plugin-dir", PLUGINS]) as again, Client(again.socket) as c:
            assert c.call("ping", []) == "pong"
            assert c.decide("orders", {})["reasons"][-1]["rule"] == "alive"
    finally:
        vd.discard()


COUNTING = """
rule "seen" { score = 1, when = function(ev)
  local minute, hour, day = verdict.counter("orders:" .. ev.account)
  return true, day end }
pipeline "orders" { stages = { stage "first" {"seen"}, plugin "crash" { name = "boom" } },
                    actions = { review = 5 } }
"""


def test_restart_after_a_crash_keeps_the_counters():
    """With --state-snapshot, a crash costs at most the last interval: the restarted daemon
    serves again and its counters go on from the last snapshot."""
    pol = policy_dir({"p.lua": COUNTING})
    keep = policy_dir({})  # outlives the first daemon's own folder
    snap, sock = os.path.join(keep, "state.snap"), os.path.join(keep, "v.sock")
    args = ["--plugin-dir", PLUGINS, "--state-snapshot", snap, "--state-snapshot-interval", "1"]
    vd = Daemon(policies=pol, args=args, socket=sock)
    try:
        with Client(vd.socket) as c:
            for n in range(1, 6):
                assert c.decide("orders", {"account": "a1"})["reasons"][0]["detail"] == str(n)
            deadline = time.time() + 10
            while c.call("stats", [])["state"]["snapshot"]["writes"] == 0:
                assert time.time() < deadline, "no interval snapshot was written"
                time.sleep(0.1)
            c.send("decide", ["orders", {"account": "a1", "crash": "segv"}])
            assert c.expect_closed() == []
        assert vd.proc.wait(30) == -signal.SIGSEGV
        assert "in plugin 'crash'" in vd.output()
    finally:
        vd.discard()
    with Daemon(policies=pol, args=args, socket=sock) as again, Client(again.socket) as c:
        # The five counted before the snapshot are back; the crashing request may count or not.
        assert c.decide("orders", {"account": "a1"})["reasons"][0]["detail"] in ("6", "7")


def test_crash_leaves_the_decision_log_whole():
    """A plugin crashes while other clients' decisions are being logged: the log's last line
    is whole, every line parses, and the decisions answered before the crash that reached the
    file are the replies' own (records still in the buffers are lost, as documented)."""
    pol = policy_dir({"p.lua": COUNTING})
    keep = policy_dir({})
    log, sock = os.path.join(keep, "decisions.jsonl"), os.path.join(keep, "v.sock")
    vd = Daemon(policies=pol, socket=sock,
                args=["--plugin-dir", PLUGINS, "--workers", "2", "--decision-log", log])
    try:
        replies = {}
        with Client(vd.socket) as c, Client(vd.socket) as busy:
            for n in range(300):
                busy.send("decide", ["orders", {"account": "b%d" % (n % 7)}])
            for _ in range(300):
                _, err, r = busy.recv()
                replies[r["id"]] = r
            time.sleep(0.3)  # the writer's nap is at most 64 ms: these are written by then
            for n in range(300):  # and these may be in the middle of being written
                busy.send("decide", ["orders", {"account": "c%d" % (n % 7)}])
            c.send("decide", ["orders", {"account": "a1", "crash": "segv"}])
            assert c.expect_closed() == []
        assert vd.proc.wait(30) == -signal.SIGSEGV
    finally:
        vd.discard()
    with open(log, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n"), data[-200:]
    import json
    records = [json.loads(line) for line in data.splitlines()]
    decided = [r for r in records if "id" in r]
    assert records[0]["type"] == "manifest" and decided, len(records)
    assert set(replies) <= {r["id"] for r in decided}, "records written before the crash lost"


def test_stack_overflow_is_reported():
    """The handler runs on an alternate stack, so a thread that ran out of stack still
    reports."""
    vd, out = crash_with("overflow", "SIGSEGV", signal.SIGSEGV)
    vd.discard()
    assert "stack overflow" in out, out


def test_abort_and_trap_are_reported():
    vd, out = crash_with("abort", "SIGABRT", signal.SIGABRT)
    vd.discard()
    assert "(si_code -6: raised by the process itself: abort(), raise() or tgkill()) from pid %d" \
        % vd.proc.pid in out, out
    vd, out = crash_with("trap", "SIGILL", signal.SIGILL)
    vd.discard()


def test_crash_in_create_names_the_stage():
    vd = start_crashing(', crash_in = "create"')
    try:
        vd.wait_crash()
        assert_report(vd.output(), "SIGSEGV", "create() of stage 'boom' in pipeline 'orders'")
        assert not os.path.exists(vd.socket)
    finally:
        vd.discard()


def test_no_plugin_running_is_said():
    """A fault outside plugin code (here a signal sent by kill) is reported as such."""
    vd = start_crashing()
    try:
        vd.wait_ready()
        vd.signal(signal.SIGBUS)
        assert vd.wait_crash() == -signal.SIGBUS
        out = vd.output()
        assert "verdictd crashed: SIGBUS (si_code 0: sent by kill()) from pid %d" % os.getpid() \
            in out, out
        assert "no plugin code was running on this thread" in out, out
        assert not os.path.exists(vd.socket)
    finally:
        vd.discard()


def main():
    return run_tests([test_segfault_is_reported_and_a_restart_serves,
                      test_restart_after_a_crash_keeps_the_counters,
                      test_crash_leaves_the_decision_log_whole,
                      test_stack_overflow_is_reported, test_abort_and_trap_are_reported,
                      test_crash_in_create_names_the_stage, test_no_plugin_running_is_said])


if __name__ == "__main__":
    sys.exit(main())
