"""Connections that hold resources without using them: an idle client is closed after
--idle-timeout-ms, a request that trickles in is cut after --request-timeout-ms (counted in
stats), while a client that keeps working, slowly or not, stays."""

import select
import socket
import sys
import time

import msgpack

from vdtest import Client, Daemon, policy_dir, run_tests

ARGS = ["--workers", "1", "--idle-timeout-ms", "300", "--request-timeout-ms", "300"]


def closed_within(sock, seconds):
    sock.settimeout(seconds)
    t0 = time.monotonic()
    try:
        while sock.recv(65536):
            pass
    except socket.timeout:
        return None
    return time.monotonic() - t0


def test_idle_and_slow_clients_are_closed():
    with Daemon(args=ARGS) as d:
        idle = socket.socket(socket.AF_UNIX)
        idle.connect(d.socket)
        took = closed_within(idle, 3)
        assert took is not None and took < 2, took
        slow = socket.socket(socket.AF_UNIX)
        slow.connect(d.socket)
        frame = msgpack.packb([0, 1, "ping", []])
        t0 = time.monotonic()
        cut = False
        for b in frame[:-1]:  # a byte every 100 ms: the frame would take longer than allowed
            try:
                slow.send(bytes([b]))
            except OSError:
                cut = True
                break
            time.sleep(0.1)
        assert cut or closed_within(slow, 2) is not None, "the slow request was not cut"
        assert time.monotonic() - t0 < 3
        with Client(d.socket) as c:  # working, with pauses under the idle timeout: stays
            for _ in range(8):
                assert c.call("ping", []) == "pong"
                time.sleep(0.1)
            st = c.call("stats", [])
            assert st["connections_idle_closed"] >= 1, st
            assert st["connections_slow_closed"] >= 1, st


def test_replies_owed_before_bad_bytes_outlive_the_request_timeout():
    """Replies owed, then unframeable bytes, from a client that reads only later: the bad bytes
    are not a request trickling in, and the replies wait for it (the request timeout once cut
    the connection with 240 of 300 replies unwritten)."""
    with Daemon(args=["--workers", "1", "--idle-timeout-ms", "2000", "--request-timeout-ms",
                      "300"]) as d:
        with Client(d.socket) as c:
            c.send_raw(b"".join(msgpack.packb([0, i, "stats", []]) for i in range(300)) +
                       b"\x94\x00\xcd\x12\x34\xc1" + b"x" * 1000)
            time.sleep(0.6)
            replies = c.expect_closed()
            assert sorted(r[0] for r in replies) == list(range(300)) + [0x1234], len(replies)
            with Client(d.socket) as other:
                assert other.call("stats", [])["connections_slow_closed"] == 0


def pipeline_stats(sock, n):
    """Sends n stats requests without reading, as far as the daemon takes them."""
    batch = msgpack.packb([0, 1, "stats", []]) * n
    sock.setblocking(False)
    sent, deadline = 0, time.monotonic() + 3
    while sent < len(batch) and time.monotonic() < deadline:
        try:
            sent += sock.send(batch[sent:])
        except BlockingIOError:
            time.sleep(0.02)


def test_client_that_reads_no_reply_is_closed_as_idle():
    """A client that pipelines and never reads is stopped being read at the reply mark; it is
    closed once it has read nothing for --idle-timeout-ms, counted as idle. It used to be cut by
    the request timeout as a slow request when bytes were left in its buffer, and kept forever
    when none were."""
    with Daemon(args=["--workers", "1", "--idle-timeout-ms", "800", "--request-timeout-ms",
                      "200"]) as d:
        for n in (20000, 1200):  # requests left unread in the buffer at the mark, and none
            s = socket.socket(socket.AF_UNIX)
            s.connect(d.socket)
            t0 = time.monotonic()
            pipeline_stats(s, n)
            p = select.poll()
            p.register(s, 0)  # the hang-up only: reading would be reading the replies
            assert p.poll(5000), "a client reading nothing was kept (%d requests)" % n
            took = time.monotonic() - t0
            assert 0.7 < took < 4, took
            s.close()
        with Client(d.socket) as c:
            st = c.call("stats", [])
            assert st["connections_idle_closed"] == 2 and st["connections_slow_closed"] == 0, st


def test_client_that_reads_slowly_stays():
    """Replies read slowly, a bit at a time: the write of 1.4 MB completes only once whole, well
    after the idle timeout, but some of it can be written every half second, so the client is
    kept and gets every reply."""
    with Daemon(args=["--workers", "1", "--idle-timeout-ms", "1000"]) as d:
        with Client(d.socket) as c:
            c.send_raw(b"".join(msgpack.packb([0, i, "stats", []]) for i in range(400)))
            got = 0
            while got < 400:
                time.sleep(0.2)
                data = c.sock.recv(128 << 10)
                assert data, "closed after %d replies" % got
                c.unpacker.feed(data)
                got += sum(1 for _ in c.unpacker)
            assert c.call("stats", [])["connections_idle_closed"] == 0


BUSY = """
rule "busy" { score = 0, when = function(ev) for i = 1, ev.n do end return false end }
pipeline "busy" { stages = { stage "s" {"busy"} } }
"""


def test_busy_worker_does_not_close_clients_that_acted_in_time():
    """The worker busy for longer than the timeouts (a long rule here; a client's batch of large
    replies does the same): when its loop comes back, the timers are due before it reads or
    writes. Clients that sent their next request, finished their frame or read their replies in
    time are not closed for it (they were, their requests unanswered)."""
    with Daemon(policy_dir({"busy.lua": BUSY}),
                ["--workers", "1", "--idle-timeout-ms", "300", "--request-timeout-ms", "300",
                 "--lua-instructions", "2000000000"]) as d:
        n = 1000000
        with Client(d.socket) as c:
            while True:
                took_us = c.decide("busy", {"n": n})["elapsed_us"]
                if took_us > 100000:
                    break
                n *= 4
        n = int(n * 1500000 / took_us)  # a decision of about 1.5 s
        idle, half, unread = Client(d.socket), Client(d.socket), Client(d.socket)
        assert idle.call("ping", []) == "pong"  # from here, idle for up to 300 ms
        frame = msgpack.packb([0, 5, "ping", []])
        half.send_raw(frame[:2])  # a frame begun: 300 ms to finish it
        unread.send_raw(b"".join(msgpack.packb([0, i, "stats", []]) for i in range(300)))
        time.sleep(0.02)
        staller = Client(d.socket)
        staller.send("decide", ["busy", {"n": n}])
        time.sleep(0.1)  # the worker is busy; everyone acts in time
        idle.send("ping", [], msgid=9)
        half.send_raw(frame[2:])
        unread.sock.settimeout(0.05)
        got = []
        try:
            while True:
                unread.unpacker.feed(unread.sock.recv(1 << 16))
                got += [m[1] for m in unread.unpacker]
        except socket.timeout:
            pass
        unread.sock.settimeout(30)
        busy = staller.recv()  # the busy decision is over
        assert busy[2]["elapsed_us"] > 600000, busy  # long enough for every timer to be due
        try:
            assert idle.recv()[:1] == (9,)
            assert half.recv()[:1] == (5,)
            while len(got) < 300:
                got.append(unread.recv()[0])
        except (TypeError, ConnectionResetError) as e:
            raise AssertionError("a client that acted in time was closed: %r" % e)
        assert sorted(got) == list(range(300))
        for c in (staller, idle, half, unread):
            c.close()
        with Client(d.socket) as c:
            assert c.call("stats", [])["connections_slow_closed"] == 0


def busy_n(sock, seconds):
    """The loop count of a busy decision that takes about seconds."""
    n = 1000000
    with Client(sock) as c:
        while True:
            took_us = c.decide("busy", {"n": n})["elapsed_us"]
            if took_us > 100000:
                return int(n * seconds * 1e6 / took_us)
            n *= 4


def test_timer_counts_from_after_a_busy_batch():
    """A request read in the same turn of the loop as a long decision, after it: its client's
    idle time counts from its reply, not from when that turn began (it was closed right after its
    reply, its next request unanswered)."""
    with Daemon(policy_dir({"busy.lua": BUSY}),
                ["--workers", "1", "--idle-timeout-ms", "300", "--lua-instructions",
                 "2000000000"]) as d:
        short, long = busy_n(d.socket, 0.2), busy_n(d.socket, 1.5)
        first, staller, x = Client(d.socket), Client(d.socket), Client(d.socket)
        assert x.call("ping", []) == "pong"
        first.send("decide", ["busy", {"n": short}])  # while it runs, the next two queue up
        time.sleep(0.02)
        staller.send("decide", ["busy", {"n": long}])
        x.send("ping", [], msgid=1)
        assert x.recv()[:1] == (1,)
        assert staller.recv()[2]["elapsed_us"] > 600000
        time.sleep(0.1)
        try:
            assert x.call("ping", []) == "pong"
        except (AssertionError, BrokenPipeError, ConnectionResetError) as e:
            raise AssertionError("closed 0.1 s after its reply: %r" % e)
        for c in (first, staller, x):
            c.close()


if __name__ == "__main__":
    sys.exit(run_tests([test_idle_and_slow_clients_are_closed,
                        test_replies_owed_before_bad_bytes_outlive_the_request_timeout,
                        test_client_that_reads_no_reply_is_closed_as_idle,
                        test_client_that_reads_slowly_stays,
                        test_busy_worker_does_not_close_clients_that_acted_in_time,
                        test_timer_counts_from_after_a_busy_batch]))
