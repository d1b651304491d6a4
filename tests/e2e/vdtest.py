"""Helpers for the end-to-end tests: start the real verdictd on a temporary socket and talk
to it as a client would (msgpack-RPC over a Unix socket, Debian's python3-msgpack)."""

import atexit
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import msgpack

VERDICTD = os.environ.get("VERDICTD", "build/bin/verdictd")
VERDICT = os.environ.get("VERDICT", "build/bin/verdict")
SOURCE = os.environ.get("VD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SHIPPED = os.path.join(SOURCE, "policies")
DATA = os.path.join(SOURCE, "data")  # filled by `make data`

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")


def free_port():
    """A TCP port on loopback that nothing listens on now (for --metrics)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def policy_dir(files, base=None):
    """A temporary policy directory: a copy of base (if given) plus files {relpath: text}."""
    d = tempfile.mkdtemp(prefix="vd-e2e-pol-")
    atexit.register(shutil.rmtree, d, True)
    if base:
        shutil.copytree(base, d, dirs_exist_ok=True)
    for rel, text in files.items():
        path = os.path.join(d, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return d


STARTED = []  # every daemon a test started: none may outlive the test process


def kill_leftovers():
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


atexit.register(kill_leftovers)


class Daemon:
    """A verdictd process on a private socket. Use as a context manager."""

    def __init__(self, policies=SHIPPED, args=(), expect_start=True, socket=None):
        self.dir = tempfile.mkdtemp(prefix="vd-e2e-")
        self.socket = socket or os.path.join(self.dir, "verdict.sock")
        self.log_path = os.path.join(self.dir, "verdictd.log")
        self.log = open(self.log_path, "w")
        cmd = [VERDICTD, "--socket", self.socket, "--policies", policies, "--log-level", "debug",
               "--data-dir", DATA]
        self.proc = subprocess.Popen(cmd + list(args), stdout=self.log, stderr=self.log)
        STARTED.append(self.proc)
        if expect_start:
            self.wait_ready()

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("verdictd exited early:\n" + self.output())
            try:
                with Client(self.socket) as c:
                    if c.call("ping", []) == "pong":
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("verdictd did not answer within %ss:\n%s" % (timeout, self.output()))

    def output(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:  # names from policies may be any bytes
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM, wait, and check a clean exit without sanitizer reports."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("verdictd did not exit after SIGTERM:\n" + self.output())
        self.check_clean()
        assert code == 0, "verdictd exited with %d:\n%s" % (code, self.output())

    def check_clean(self):
        out = self.output()
        for mark in SANITIZER_MARKS:
            assert mark not in out, "sanitizer report in the daemon log:\n" + out

    def __enter__(self):
        return self

    def discard(self):
        """Kills the daemon if it still runs and removes its files, checking nothing."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __exit__(self, kind, value, tb):
        try:
            if kind is None:
                self.stop()
            elif self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        finally:
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
        return False


def connect(path, timeout=30):
    """A socket connected to path, with timeout for its operations. A connect waits (up to
    timeout) while the daemon's listen backlog is full: with a timeout set, a Unix socket's
    connect would fail at once with EAGAIN instead."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sec = int(timeout)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                 struct.pack("ll", sec, int((timeout - sec) * 1e6)))
    try:
        s.connect(path)
    except BaseException:
        s.close()
        raise
    s.settimeout(timeout)
    return s


class RpcError(Exception):
    def __init__(self, error):
        super().__init__("%s: %s" % (error.get("code"), error.get("message")))
        self.code = error.get("code")
        self.message = error.get("message")


class Client:
    """A msgpack-RPC client that can pipeline: send() returns the msgid, recv() the next
    response as (msgid, error, result)."""

    def __init__(self, path, timeout=30):
        self.sock = connect(path, timeout)
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        self.next_id = 1

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, method, params, msgid=None):
        if msgid is None:
            msgid = self.next_id
            self.next_id += 1
        self.sock.sendall(msgpack.packb([0, msgid, method, params], use_bin_type=True))
        return msgid

    def recv(self):
        """The next response, or None when the server closed the connection."""
        while True:
            for msg in self.unpacker:
                assert msg[0] == 1 and len(msg) == 4, "not a response: %r" % (msg,)
                return msg[1], msg[2], msg[3]
            data = self.sock.recv(1 << 16)
            if not data:
                return None
            self.unpacker.feed(data)

    def call(self, method, params):
        msgid = self.send(method, params)
        while True:
            reply = self.recv()
            assert reply is not None, "connection closed while waiting for msgid %d" % msgid
            if reply[0] == msgid:
                if reply[1] is not None:
                    raise RpcError(reply[1])
                return reply[2]

    def decide(self, pipeline, event, options=None):
        return self.call("decide", [pipeline, event] + ([options] if options else []))

    def expect_closed(self, timeout=10):
        """Reads until EOF; returns the responses that came before it."""
        self.sock.settimeout(timeout)
        replies = []
        while True:
            r = self.recv()
            if r is None:
                return replies
            replies.append(r)


def expect_error(fn, code, *needles):
    try:
        fn()
    except RpcError as e:
        assert e.code == code, "expected %s, got %s: %s" % (code, e.code, e.message)
        for n in needles:
            assert n in e.message, "%r not in %r" % (n, e.message)
        return e
    raise AssertionError("expected an error %s" % code)


def wait_for(fn, timeout=15):
    """Polls fn until it returns true; False when timeout seconds passed first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return False


def signup_burst(sockets, check=None):
    """200 signups from one /24 by four concurrent clients spread over the sockets (daemons);
    returns the actions. check(reply) runs on every reply."""
    good = {"email": "jane@gmail.com", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
            "country": "AU", "form_ms": 6000}
    actions = []
    lock = threading.Lock()

    def client(k):
        with Client(sockets[k % len(sockets)]) as c:
            for i in range(50):
                event = dict(good, ip="198.51.100.%d" % ((k * 50 + i) % 250 + 1),
                             username="person%c%c" % (97 + k, 97 + i % 26))
                r = c.decide("signup", event)
                if check:
                    check(r)
                with lock:
                    actions.append(r["action"])

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return actions


class Skip(Exception):
    """Raised by a test that cannot run here (what it needs is not installed)."""


def require(what, probe, install):
    """Skips the test when the command probe fails, unless under CI (CI=true), where make test
    installs everything and a missing piece is a failure."""
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=60).returncode == 0
    except OSError:
        ok = False
    if ok:
        return
    why = "%s is not installed (%s)" % (what, install)
    if os.environ.get("CI"):
        raise AssertionError(why + ", and CI must skip nothing")
    raise Skip(why)


def run_tests(tests):
    """Runs the test functions, prints one line each and a closing summary; returns the exit
    status for sys.exit."""
    failed = skipped = 0
    for t in tests:
        start = time.time()
        try:
            t()
            print("ok   %-50s %.2fs" % (t.__name__, time.time() - start), flush=True)
        except Skip as why:
            skipped += 1
            print("skip %-50s %s" % (t.__name__, why), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__, flush=True)
            traceback.print_exc()
    print("%d passed, %d failed%s" % (len(tests) - failed - skipped, failed,
                                      ", %d skipped" % skipped if skipped else ""), flush=True)
    return 1 if failed else 0


class RedisServer:
    """A private redis-server on a Unix socket in a temporary directory (no TCP port, no
    persistence). stop() and start() again keep the same socket path, so daemons reconnect."""

    def __init__(self, args=()):
        self.args = list(args)
        self.dir = tempfile.mkdtemp(prefix="vd-e2e-redis-")
        atexit.register(shutil.rmtree, self.dir, True)
        self.socket = os.path.join(self.dir, "redis.sock")
        self.proc = None
        self.start()

    def start(self, timeout=10):
        log = open(os.path.join(self.dir, "redis.log"), "a")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.socket, "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", self.dir] + self.args,
            stdout=log, stderr=log)
        log.close()
        atexit.register(self.kill)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.command("PING") in (b"+PONG\r\n", b"-NOAUTH Authentication required.\r\n"):
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError("redis-server did not start")

    def command(self, *args):
        """Sends one command; returns the raw reply (small replies only)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(self.socket)
            req = b"*%d\r\n" % len(args) + b"".join(
                b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
            s.sendall(req)
            return s.recv(1 << 16)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)
