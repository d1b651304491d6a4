"""Connections that hold resources without using them: an idle client is closed after
--idle-timeout-ms, a request that trickles in is cut after --request-timeout-ms (counted in
stats), while a client that keeps working, slowly or not, stays."""

import socket
import sys
import time

import msgpack

from vdtest import Client, Daemon, run_tests

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


if __name__ == "__main__":
    sys.exit(run_tests([test_idle_and_slow_clients_are_closed,
                        test_replies_owed_before_bad_bytes_outlive_the_request_timeout]))
