"""Runaway rules, deadlines, graceful shutdown and the socket file."""

import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

from vdtest import DATA, SHIPPED, VERDICTD, Client, Daemon, expect_error, policy_dir, run_tests

POLICY = """
rule "spin" { score = 1, when = function(ev) while ev.spin do end return false end }
rule "hog" { score = 1, when = function(ev)
  if not ev.hog then return false end
  local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 65536) .. i end end }
rule "slow" { score = 1, when = function(ev)
  local x = 0 for i = 1, (ev.work or 0) do x = x + i end return ev.work ~= nil end }
pipeline "p" { stages = { stage "s" {"spin", "hog", "slow"} } }
"""


def test_endless_loop_is_stopped_and_reported():
    with Daemon(policies=policy_dir({"p.lua": POLICY}), args=["--workers", "1"]) as vd:
        with Client(vd.socket) as c:
            r = c.decide("p", {"spin": True})
            assert r["faults"] and "instruction budget" in r["faults"][0]["message"], r
            assert "p.lua:2:" in r["faults"][0]["message"]
            assert r["action"] == "allow"  # fail open
            assert c.call("ping", []) == "pong"
            assert c.call("stats", [])["pipelines"]["p"]["stages"]["s"]["faults"] == 1


def test_memory_hog_is_stopped():
    with Daemon(policies=policy_dir({"p.lua": POLICY}),
                args=["--workers", "1", "--lua-memory-mb", "64",
                      "--lua-instructions", "100000000"]) as vd:
        with Client(vd.socket) as c:
            r = c.decide("p", {"hog": True})
            assert r["faults"] and "memory" in r["faults"][0]["message"], r
            assert c.decide("p", {})["faults"] == []  # the state recovered


def test_deadline():
    with Daemon(policies=policy_dir({"p.lua": POLICY.replace("\"spin\", \"hog\", \"slow\"",
                                                             "\"slow\", \"slow\", \"slow\"")}),
                args=["--lua-instructions", "100000000"]) as vd:
        with Client(vd.socket) as c:
            expect_error(lambda: c.decide("p", {"work": 3000000}, {"deadline_ms": 1}),
                         "timeout", "deadline")
            assert c.decide("p", {"work": 10}, {"deadline_ms": 1000})["score"] == 3
            assert c.call("stats", [])["errors_by_code"]["timeout"] == 1


def test_sigterm_drains_in_flight_requests():
    vd = Daemon(policies=policy_dir({"p.lua": POLICY}),
                args=["--workers", "2", "--lua-instructions", "200000000"])
    clients = [Client(vd.socket) for _ in range(4)]
    sent = {}
    for c in clients:
        sent[c] = [c.send("decide", ["p", {"work": 400000}]) for _ in range(10)]
    time.sleep(0.05)
    vd.signal(signal.SIGTERM)
    for c in clients:
        got = sorted(r[0] for r in c.expect_closed(timeout=60) if r[1] is None)
        assert got == sorted(sent[c]), "lost replies: sent %s got %s" % (sent[c], got)
        c.close()
    assert vd.proc.wait(60) == 0, vd.output()
    vd.check_clean()
    assert not os.path.exists(vd.socket), "the socket file was left behind"
    assert "draining" in vd.output()
    vd.__exit__(None, None, None)


def test_sigint_stops_an_idle_daemon():
    vd = Daemon()
    with Client(vd.socket):
        pass
    idle = Client(vd.socket)  # an idle connection must not hold the shutdown
    vd.signal(signal.SIGINT)
    assert vd.proc.wait(30) == 0
    assert idle.expect_closed() == []
    idle.close()
    vd.__exit__(None, None, None)


def test_socket_file_handling():
    d = tempfile.mkdtemp(prefix="vd-e2e-sock-")
    path = os.path.join(d, "verdict.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # a socket file nobody listens on: what a crash leaves behind
    stale.close()
    vd = Daemon(socket=path)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o660, oct(mode)
    p = subprocess.run([VERDICTD, "--socket", path, "--policies", SHIPPED, "--data-dir", DATA],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "in use" in p.stderr, p.stderr
    with Client(path) as c:
        assert c.call("ping", []) == "pong"  # the refused second daemon changed nothing
    vd.__exit__(None, None, None)
    regular = os.path.join(d, "file")
    open(regular, "w").close()
    p = subprocess.run([VERDICTD, "--socket", regular, "--policies", SHIPPED, "--data-dir", DATA],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "not a socket" in p.stderr
    vd = Daemon(args=["--socket-mode", "600"])
    assert stat.S_IMODE(os.stat(vd.socket).st_mode) == 0o600
    vd.__exit__(None, None, None)
    p = subprocess.run([VERDICTD, "--workers", "zero"], capture_output=True, text=True)
    assert p.returncode == 2 and "--workers" in p.stderr


def main():
    return run_tests([test_endless_loop_is_stopped_and_reported, test_memory_hog_is_stopped,
                      test_deadline, test_sigterm_drains_in_flight_requests,
                      test_sigint_stops_an_idle_daemon, test_socket_file_handling])


if __name__ == "__main__":
    sys.exit(main())
