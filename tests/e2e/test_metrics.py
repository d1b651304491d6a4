"""The Prometheus endpoint (--metrics HOST:PORT), the per-rule and shadow figures in it and
in stats, the fault log lines, and the Grafana dashboard in docs/."""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from vdtest import (DATA, SHIPPED, SOURCE, VERDICTD, Client, Daemon, expect_error, free_port,
                    policy_dir, run_tests)


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
        for kind in ("counter", "distinct", "label", "record"):
            assert f'verdict_state_kind_evictions_total{{kind="{kind}"}} 0\n' in text, text
        assert 'verdict_state_kind_entries{kind="counter"} ' in text
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


# A pipeline whose rules do known things: one always fires, one fires on flag, one reads a
# misspelt global (the list is `datacenter_asns`) and so fails on every request, and a shadow
# stage would block what the live stages only challenge.
RULES = """local datacenter_asns = { [16509] = true }
rule "always" { score = 1, when = function(ev) return true end }
rule "flagged" { score = 5, when = function(ev) return ev.flag == "yes" end }
rule "datacenter" { score = 3,
  when = function(ev) return datacenter_asn[ev.asn] ~= nil end }
rule "bad_score" { score = function(ev) return "high" end, when = function(ev) return true end }
rule "would_block" { score = 20, when = function(ev) return ev.flag == "yes" end }
pipeline "p" {
  stages = { stage "main" { "always", "flagged", "datacenter", "bad_score" },
             stage "trial" { "would_block", shadow = true } },
  actions = { challenge = 5, block = 10 },
}
"""


def scrape(port):
    url = "http://127.0.0.1:%d/metrics" % port
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def samples(text):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def rule_key(name, rule, stage="main", shadow="false", pipeline="p"):
    return '%s{pipeline="%s",stage="%s",rule="%s",shadow="%s"}' % (name, pipeline, stage, rule,
                                                                   shadow)


def decide_flagged(sock, n, flagged):
    """n decisions of pipeline p, alternating between two connections (which the daemon may
    give to different workers), the first `flagged` of them with flag = yes; returns the
    (live, shadow) actions."""
    actions = []
    with Client(sock) as c1, Client(sock) as c2:
        for i in range(n):
            c = (c1, c2)[i % 2]
            r = c.decide("p", {"flag": "yes" if i < flagged else "no", "asn": 16509})
            actions.append((r["action"], r["shadow"]["action"]))
    return actions


def test_rule_metrics_count_known_events():
    port = free_port()
    with Daemon(policies=policy_dir({"p.lua": RULES}),
                args=["--workers", "2", "--metrics", "127.0.0.1:%d" % port]) as vd:
        actions = decide_flagged(vd.socket, 10, 4)
        assert actions == [("challenge", "block")] * 4 + [("allow", "allow")] * 6, actions
        with Client(vd.socket) as c:
            stats = c.call("stats", [])
        m = samples(scrape(port))
    p = stats["pipelines"]["p"]
    main = p["stages"]["main"]
    assert not main["shadow"] and p["stages"]["trial"]["shadow"]
    want = {"always": (10, 10, 0), "flagged": (10, 4, 0), "datacenter": (10, 0, 10),
            "bad_score": (10, 0, 10)}
    for rule, (runs, fired, faults) in want.items():
        got = main["rules"][rule]
        assert (got["runs"], got["fired"], got["faults"]) == (runs, fired, faults), (rule, got)
        assert 0 < got["seconds"] < 1, (rule, got)
        assert m[rule_key("verdict_rule_runs_total", rule)] == runs
        assert m[rule_key("verdict_rule_fired_total", rule)] == fired
        assert m[rule_key("verdict_rule_faults_total", rule)] == faults
        # The tick rate is measured again at each read: the same time within a part in 1000.
        assert abs(m[rule_key("verdict_rule_seconds_total", rule)] / got["seconds"] - 1) < 1e-3
    trial = p["stages"]["trial"]["rules"]["would_block"]
    assert (trial["runs"], trial["fired"], trial["faults"]) == (10, 4, 0), trial
    assert m[rule_key("verdict_rule_fired_total", "would_block", "trial", "true")] == 4
    assert main["faults"] == 20 and main["fired"] == 14, main  # the stage's own figures
    assert p["shadow"] == {"decisions": 10, "differ": 4,
                           "pairs": [{"live": "challenge", "shadow": "block", "count": 4}]}, \
        p["shadow"]
    assert m['verdict_shadow_decisions_total{pipeline="p"}'] == 10
    assert m['verdict_shadow_diff_total{pipeline="p",live="challenge",shadow="block"}'] == 4
    assert not any(k.startswith("verdict_shadow_diff_total") and 'live="allow"' in k for k in m)


def test_rule_fault_logged_per_rule_rate_limited():
    with Daemon(policies=policy_dir({"p.lua": RULES}), args=["--workers", "1"]) as vd:
        decide_flagged(vd.socket, 30, 0)
        out = vd.output()
    lines = [l for l in out.splitlines() if "rule 'datacenter'" in l]
    assert len(lines) == 1, out  # the first fault at once, the next line a minute later
    line = lines[0]
    assert line.split()[1] == "warn", line
    assert "pipeline 'p', stage 'main', rule 'datacenter' (" in line, line
    assert re.search(r"p\.lua:4\) failed: .*p\.lua:5: undefined global 'datacenter_asn' "
                     r"\(further faults of this rule: a line a minute at most", line), line
    # Another rule of the same stage failing is not hidden behind the first one's limit.
    lines = [l for l in out.splitlines() if "rule 'bad_score'" in l]
    assert len(lines) == 1 and "p.lua:6" in lines[0] and "returned no number" in lines[0], out


RELOAD_V1 = """
rule "kept" { score = 1, when = function(ev) return true end }
rule "removed" { score = 1, when = function(ev) return true end }
rule "moved" { score = 1, when = function(ev) return true end }
pipeline "p" { stages = { stage "s" { "kept", "removed", "moved" } } }
"""
RELOAD_V2 = """
rule "kept" { score = 1, when = function(ev) return true end }
rule "added" { score = 1, when = function(ev) return true end }
rule "moved" { score = 1, when = function(ev) return true end }
pipeline "p" { stages = { stage "s" { "kept", "added" }, stage "t" { "moved", shadow = true } } }
"""


def test_rule_metrics_across_reload():
    d = policy_dir({"p.lua": RELOAD_V1})
    port = free_port()
    with Daemon(policies=d, args=["--workers", "2", "--metrics", "127.0.0.1:%d" % port]) as vd:
        with Client(vd.socket) as c:
            for _ in range(3):
                c.decide("p", {})
            with open(os.path.join(d, "p.lua"), "w") as f:
                f.write(RELOAD_V2)
            c.call("reload", [])
            for _ in range(2):
                c.decide("p", {})
            stages = c.call("stats", [])["pipelines"]["p"]["stages"]
        m = samples(scrape(port))
    # Counters follow (pipeline, stage, rule): kept goes on, a new rule starts at zero, a rule
    # no longer in the policy keeps its last figures, one moved to another stage starts again.
    runs = {(st, r): v["runs"] for st, s in stages.items() for r, v in s["rules"].items()}
    assert runs == {("s", "kept"): 5, ("s", "removed"): 3, ("s", "moved"): 3, ("s", "added"): 2,
                    ("t", "moved"): 2}, runs
    assert m[rule_key("verdict_rule_runs_total", "kept", "s")] == 5
    assert m[rule_key("verdict_rule_runs_total", "moved", "t", "true")] == 2
    assert m[rule_key("verdict_rule_runs_total", "removed", "s")] == 3


DASHBOARD = os.path.join(SOURCE, "docs", "grafana-dashboard.json")


def dashboard_exprs(node):
    """Every PromQL expression of the dashboard's panels and variables."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "query") and isinstance(value, str):
                yield value
            elif key == "query" and isinstance(value, dict) and "query" in value:
                yield value["query"]
            else:
                yield from dashboard_exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_exprs(item)


def test_grafana_dashboard_queries_exported_metrics():
    with open(DASHBOARD) as f:
        board = json.load(f)
    assert isinstance(board.get("schemaVersion"), int) and board.get("title"), board.keys()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["pipeline"]["type"] == "query"
    panels = board["panels"]
    assert len(panels) >= 8 and all("gridPos" in p and "type" in p for p in panels)
    for p in panels:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}", p["title"]
            assert p["targets"], p["title"]
    used = set()
    for expr in dashboard_exprs(board):
        used.update(re.findall(r"\bverdict_[a-z0-9_]+", expr))
    assert {"verdict_rule_fired_total", "verdict_rule_runs_total", "verdict_rule_faults_total",
            "verdict_rule_seconds_total", "verdict_shadow_diff_total",
            "verdict_decision_log_dropped_total", "verdict_errors_total",
            "verdict_pipeline_seconds_bucket", "verdict_pipeline_actions_total"} <= used, used
    # Every name it queries is one a daemon exports (histograms as their three series).
    port = free_port()
    log = os.path.join(tempfile.mkdtemp(prefix="vd-e2e-board-"), "decisions.jsonl")
    with Daemon(args=["--metrics", "127.0.0.1:%d" % port, "--decision-log", log]) as vd:
        with Client(vd.socket) as c:
            c.decide("signup", {"email": "x@mailinator.com"})
        text = scrape(port)
    exported = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            exported.add(name)
            if kind == "histogram":
                exported.update(name + s for s in ("_bucket", "_sum", "_count"))
    assert used <= exported, sorted(used - exported)


def main():
    return run_tests([test_metrics_endpoint, test_metrics_requests_odd_and_bad,
                      test_bad_metrics_address_refused, test_rule_metrics_count_known_events,
                      test_rule_fault_logged_per_rule_rate_limited,
                      test_rule_metrics_across_reload,
                      test_grafana_dashboard_queries_exported_metrics])


if __name__ == "__main__":
    sys.exit(main())
