"""Out of file descriptors, the daemon pauses accepting instead of spinning on a listener that
stays readable: it counts and logs the pauses (not each failure), the waiting clients stay in
the backlog, and it accepts again once descriptors are free."""

import os
import resource
import socket
import sys
import time

from vdtest import Client, Daemon, run_tests, wait_for


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_pauses_accepting():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (96, hard))  # the daemon inherits it
    try:
        d = Daemon(args=["--workers", "1"])
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    held = []
    try:
        with Client(d.socket) as c:
            for _ in range(200):  # more than the daemon can hold
                s = socket.socket(socket.AF_UNIX)
                s.connect(d.socket)
                held.append(s)
            assert wait_for(lambda: "not accepting for" in d.output())
            before = cpu_seconds(d.proc.pid)
            time.sleep(1.0)
            used = cpu_seconds(d.proc.pid) - before
            assert used < 0.3, "the daemon spun: %.2f s of CPU in 1 s" % used
            assert c.call("stats", [])["accept_pauses"] >= 1
            assert d.output().count("not accepting for") <= 2, d.output()
            for s in held:
                s.close()
            held = []
            with Client(d.socket) as again:  # accepted again once descriptors are free
                assert again.call("ping", []) == "pong"
        d.stop()
    finally:
        for s in held:
            s.close()
        d.discard()


def test_max_connections_holds_new_ones_in_the_backlog():
    with Daemon(args=["--workers", "2", "--max-connections", "5"]) as d:
        held = []
        try:
            for _ in range(5):
                c = Client(d.socket)
                assert c.call("ping", []) == "pong"
                held.append(c)
            waiting = Client(d.socket, timeout=0.5)  # connects: it waits in the backlog
            waiting.send("ping", [])
            try:
                waiting.recv()
                raise AssertionError("a sixth connection was served past --max-connections")
            except OSError:
                pass
            assert wait_for(lambda: "--max-connections reached" in d.output())
            held.pop().close()  # room for one: the waiting client is served
            waiting.sock.settimeout(10)
            assert waiting.recv()[2] == "pong"
            assert waiting.call("stats", [])["accept_pauses"] >= 1
            waiting.close()
        finally:
            for c in held:
                c.close()


if __name__ == "__main__":
    sys.exit(run_tests([test_out_of_descriptors_pauses_accepting,
                        test_max_connections_holds_new_ones_in_the_backlog]))
