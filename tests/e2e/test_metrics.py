"""The Prometheus endpoint (--metrics HOST:PORT)."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from vdtest import DATA, SHIPPED, VERDICTD, Client, Daemon, expect_error, free_port, run_tests


def test_metrics_endpoint():
    port = free_port()
    with Daemon(args=["--metrics", "127.0.0.1:%d" % port]) as vd:
        with Client(vd.socket) as c:
            for _ in range(5):
                c.decide("signup", {"email": "x@mailinator.com"})
            expect_error(lambda: c.call("nope", []), "unknown_method")  # counted by code
        url = "http://127.0.0.1:%d/metrics" % port
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = r.read().decode()
        assert "verdict_decisions_total 5\n" in text, text
        assert 'verdict_errors_total{code="unknown_method"} 1\n' in text
        assert 'verdict_pipeline_actions_total{pipeline="signup",action="block"} 5\n' in text
        assert 'verdict_pipeline_seconds_count{pipeline="signup"} 5\n' in text
        assert 'verdict_pipeline_seconds_bucket{pipeline="signup",le="+Inf"} 5\n' in text
        assert 'verdict_stage_seconds_count{pipeline="signup",stage="identity"} 5\n' in text
        assert "verdict_policy_info{version=" in text
        assert "verdict_read_pauses_total 0\n" in text, text
        assert "verdict_state_entries " in text and "verdict_state_evictions_total 0\n" in text
        assert 'disposable_domains.txt",kind="domain"} ' in text, text
        assert "verdict_redis_ops_total" not in text  # embedded state
        # Every sample belongs to the family declared just before it.
        family = None
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                family = line.split()[2]
            elif not line.startswith("#"):
                assert line.startswith(family), (family, line)
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=10)
            raise AssertionError("expected 404")
        except urllib.error.HTTPError as e:
            assert e.code == 404


def raw_request(port, data):
    """Sends data to the metrics port; returns (status line, headers text, body, seconds)."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    status, _, headers = head.decode().partition("\r\n")
    return status, headers, body, time.monotonic() - t0


def test_metrics_requests_odd_and_bad():
    port = free_port()
    with Daemon(args=["--metrics", "127.0.0.1:%d" % port]) as vd:
        status, headers, body, _ = raw_request(port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
        assert status == "HTTP/1.1 200 OK" and body == b"", (status, body)
        assert int(headers.split("Content-Length: ")[1].split("\r\n")[0]) > 1000, headers
        status, _, _, took = raw_request(port, b"GET /met\x00rics HTTP/1.1\r\n")
        assert status == "HTTP/1.1 400 Bad Request" and took < 2, (status, took)
        status, _, _, _ = raw_request(port, b"hello\n\n")
        assert status == "HTTP/1.1 400 Bad Request", status
        status, headers, _, _ = raw_request(port, b"POST /metrics HTTP/1.1\r\n\r\n")
        assert status == "HTTP/1.1 405 Method Not Allowed" and "Allow: GET, HEAD" in headers
        status, _, _, _ = raw_request(port, b"GET /metrics?x=1 HTTP/1.0\n\n")
        assert status == "HTTP/1.1 200 OK", status
        # Idle metrics clients are bounded (64): past it a client gets 503 at once, and the
        # decision socket does not notice.
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(70)]
        try:
            time.sleep(0.2)
            status, _, _, took = raw_request(port, b"GET /metrics HTTP/1.1\r\n\r\n")
            assert status == "HTTP/1.1 503 Service Unavailable" and took < 2, status
            with Client(vd.socket) as c:
                assert c.call("ping", []) == "pong"
        finally:
            for s in idle:
                s.close()
        time.sleep(0.2)
        status, _, _, _ = raw_request(port, b"GET /metrics HTTP/1.1\r\n\r\n")
        assert status == "HTTP/1.1 200 OK", status


def test_bad_metrics_address_refused():
    for addr in ("localhost", "127.0.0.1:0", "127.0.0.1:99999", "nonsense:80"):
        p = subprocess.run([VERDICTD, "--socket", "/tmp/vd-e2e-metrics.sock", "--policies",
                            SHIPPED, "--data-dir", DATA, "--metrics", addr], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode != 0 and "--metrics" in p.stderr, (addr, p.stderr)


def main():
    return run_tests([test_metrics_endpoint, test_metrics_requests_odd_and_bad,
                      test_bad_metrics_address_refused])


if __name__ == "__main__":
    sys.exit(main())
