#!/usr/bin/env python3
"""How long verdictd takes to serve: from the process start to the first answered ping, and
from a crash to serving again under a supervisor that restarts it the way systemd's
Restart=on-failure with RestartSec=100ms does (the unit in packaging/systemd). Medians of
several runs, on the shipped policies.

Usage: restart_time.py BUILD_DIR POLICY_DIR DATA_DIR [RUNS]"""

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import msgpack

RESTART_SEC = 0.1


def ping(path):
    """True when a daemon answers ping on path."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(path)
            s.sendall(msgpack.packb([0, 1, "ping", []]))
            unpacker = msgpack.Unpacker(raw=False)
            while True:
                data = s.recv(4096)
                if not data:
                    return False
                unpacker.feed(data)
                for msg in unpacker:
                    return msg[3] == "pong"
    except OSError:
        return False


def wait_serving(path, since, timeout=60):
    while time.monotonic() - since < timeout:
        if ping(path):
            return time.monotonic() - since
        time.sleep(0.002)
    raise SystemExit("verdictd did not answer within %ss" % timeout)


def command(build, policies, data, sock):
    return [os.path.join(build, "bin", "verdictd"), "--socket", sock, "--policies", policies,
            "--data-dir", data, "--log-level", "warn"]


def cold_starts(cmd, sock, runs):
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        times.append(wait_serving(sock, t0))
        p.send_signal(signal.SIGTERM)
        p.wait(30)
    return times


class Supervisor:
    """Restarts the daemon RESTART_SEC after it dies of a signal, as systemd would."""

    def __init__(self, cmd):
        self.cmd, self.proc, self.stopping = cmd, None, False
        self.start()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stderr=subprocess.DEVNULL)

    def watch(self):
        while not self.stopping:
            code = self.proc.wait()
            if self.stopping or code >= 0:
                return
            time.sleep(RESTART_SEC)
            self.start()

    def stop(self):
        self.stopping = True
        self.proc.send_signal(signal.SIGTERM)
        self.thread.join(30)


def crash_restarts(cmd, sock, runs):
    sup = Supervisor(cmd)
    wait_serving(sock, time.monotonic())
    times = []
    for _ in range(runs):
        crashing = sup.proc
        t0 = time.monotonic()
        crashing.send_signal(signal.SIGSEGV)  # the crash handler runs as for a plugin fault
        while crashing.poll() is None and time.monotonic() - t0 < 30:
            time.sleep(0.001)  # until it is gone: its own answers do not count
        times.append(wait_serving(sock, t0))
    sup.stop()
    return times


def summary(name, times):
    ms = sorted(t * 1000 for t in times)
    print("  %-34s median %7.1f ms   min %7.1f   max %7.1f   (%d runs)"
          % (name, statistics.median(ms), ms[0], ms[-1], len(ms)))


def main():
    build, policies, data = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    with tempfile.TemporaryDirectory(prefix="verdict-restart.") as d:
        sock = os.path.join(d, "v.sock")
        cmd = command(build, policies, data, sock)
        # The first start also warms the page cache, as on a machine that ran verdictd before.
        cold_starts(cmd, sock, 1)
        print("verdictd start and restart (shipped policies, %d CPUs):" % os.cpu_count())
        summary("process start -> answering ping", cold_starts(cmd, sock, runs))
        summary("crash -> answering ping again", crash_restarts(cmd, sock, runs))
        print("  (a supervisor restarting %d ms after the crash, as systemd's RestartSec=100ms)"
              % int(RESTART_SEC * 1000))


if __name__ == "__main__":
    main()
