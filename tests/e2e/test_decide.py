"""Decisions of the shipped pipelines, the read-only methods and the verdict CLI."""

import json
import os
import subprocess
import sys

from vdtest import VERDICT, Client, Daemon, RpcError, expect_error, run_tests

GOOD_SIGNUP = {"ip": "80.133.10.20", "email": "jane.doe@gmail.com", "username": "janedoe",
               "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0", "country": "DE",
               "asn": 3320, "ts": 1767225600, "form_ms": 8200}
BOT_SIGNUP = {"ip": "45.77.1.2", "email": "k8x2mq9vz7w3@guerrillamail.com",
              "username": "admin_01", "user_agent": "python-requests/2.31", "asn": 20473,
              "form_ms": 300, "country": "NL", "ts": 1767225600}
HAM = {"from": "Alice <alice@example.org>", "to": "bob@example.org",
       "subject": "Lunch tomorrow?", "body": "Shall we meet at noon?",
       "headers": {"Message-ID": "<1@example.org>", "Date": "Mon, 1 Jan 2024 10:00:00 +0000"}}
SPAM = {"from": "\"service@paypal.com\" <alert@secure-pay.xyz>", "to": "bob@example.org",
        "subject": "URGENT: YOU HAVE WON A PRIZE",
        "headers": {"authentication-results": "mx.example.org; spf=fail smtp.mailfrom=x",
                    "Content-Type": "text/html; charset=utf-8"},
        "body": "<p>Click here to claim your lottery prize via Western Union: "
                "http://bit.ly/abc</p>"}

daemon = None


def rules(result):
    return [r["rule"] for r in result["reasons"]]


def test_signup_decisions():
    with Client(daemon.socket) as c:
        good = c.decide("signup", GOOD_SIGNUP)
        assert good["action"] == "allow" and good["score"] == 0, good
        assert good["pipeline"] == "signup" and len(good["policy"]) == 16
        assert good["features"]["ip_prefix"] == "80.133.10.0/24"
        assert good["features"]["geo_country"] == "DE" and good["features"]["geo_asn"] == 3320
        assert isinstance(good["elapsed_us"], int)
        bot = c.decide("signup", BOT_SIGNUP)
        assert bot["action"] == "block", bot
        for r in ("disposable_email", "role_username", "automation_user_agent",
                  "form_filled_too_fast", "datacenter_network"):
            assert r in rules(bot), (r, bot)
        for reason in bot["reasons"]:
            assert set(reason) >= {"rule", "stage", "score"}
        assert "automation" in bot["tags"]
        quick = c.decide("signup", {"ip": "203.0.113.7", "email": "x@mailinator.com"})
        assert quick["action"] in ("challenge", "block") and "disposable_email" in rules(quick)
        office = c.decide("signup", dict(BOT_SIGNUP, ip="192.0.2.10"))
        assert office["action"] == "allow"
        assert office["stopped_by"] == {"rule": "internal_network", "action": "allow"}


def test_shadow_stage_reported_not_applied():
    with Client(daemon.socket) as c:
        r = c.decide("signup", dict(GOOD_SIGNUP, email="jane@cheap-domain.xyz"))
        assert r["action"] == "allow" and r["score"] == 0
        assert [x["rule"] for x in r["shadow"]["reasons"]] == ["abused_tld_email"]
        assert r["shadow"]["score"] == 3


def test_mail_decisions():
    with Client(daemon.socket) as c:
        ham = c.decide("mail", HAM)
        assert ham["action"] == "deliver", ham
        spam = c.decide("mail", SPAM)
        assert spam["action"] == "reject", spam
        for r in ("authentication_failed", "display_name_spoof", "money_subject",
                  "advance_fee_body"):
            assert r in rules(spam), (r, spam)
        assert spam["shadow"]["reasons"][0]["rule"] == "url_shortener"


def test_explain_trace():
    with Client(daemon.socket) as c:
        r = c.decide("signup", BOT_SIGNUP, {"explain": True})
        stages = [t["stage"] for t in r["trace"]]
        assert stages == ["gate", "identity", "client", "geoip", "network", "velocity",
                          "trial"], stages
        identity = r["trace"][1]
        assert any(x["rule"] == "role_username" and x["fired"] for x in identity["rules"])
        assert all("elapsed_us" in t for t in r["trace"])
        assert "trace" not in c.decide("signup", BOT_SIGNUP)


def test_ping_pipelines_stats():
    with Client(daemon.socket) as c:
        assert c.call("ping", []) == "pong"
        pipes = {p["name"]: p for p in c.call("pipelines", [])}
        assert set(pipes) == {"signup", "mail", "login"}
        assert [s["name"] for s in pipes["mail"]["stages"]][0] == "gate"
        assert pipes["signup"]["actions"] == {"challenge": 5.0, "block": 10.0}
        assert any(s["shadow"] for s in pipes["signup"]["stages"])
        c.decide("signup", GOOD_SIGNUP)
        stats = c.call("stats", [])
        assert stats["requests"] >= 1 and stats["decisions"] >= 1
        sp = stats["pipelines"]["signup"]
        assert sp["requests"] >= 1 and "allow" in sp["actions"]
        assert sp["stages"]["identity"]["runs"] >= 1
        assert sp["latency_us"]["p99"] > 0
        assert set(stats["errors_by_code"]) >= {"bad_request", "unknown_pipeline", "timeout"}


def cli(*args, stdin=None, env_socket=True):
    env = dict(os.environ)
    if env_socket:
        env["VERDICT_SOCKET"] = daemon.socket
    return subprocess.run([VERDICT] + list(args), input=stdin, capture_output=True, text=True,
                          env=env, timeout=30)


def test_cli():
    p = cli("decide", "signup", json.dumps(BOT_SIGNUP))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["action"] == "block"
    p = cli("decide", "mail", stdin=json.dumps(HAM))
    assert p.returncode == 0 and json.loads(p.stdout)["action"] == "deliver"
    p = cli("--socket", daemon.socket, "decide", "signup", "{}", "--explain", "--compact",
            env_socket=False)
    assert p.returncode == 0 and "\n" not in p.stdout.strip()
    assert "trace" in json.loads(p.stdout)
    for cmd in ("ping", "pipelines", "stats"):
        p = cli(cmd)
        assert p.returncode == 0, (cmd, p.stderr)
        json.loads(p.stdout)
    p = cli("decide", "nope", "{}")
    assert p.returncode != 0 and "unknown_pipeline" in p.stderr and "signup" in p.stderr
    p = cli("decide", "signup", "{not json")
    assert p.returncode != 0 and "not valid JSON" in p.stderr
    p = cli("decide", "signup", "[1, 2]")
    assert p.returncode != 0 and "must be a JSON object" in p.stderr
    p = cli("frobnicate")
    assert p.returncode != 0 and "unknown command" in p.stderr
    p = cli("--socket", "/nonexistent/verdict.sock", "ping", env_socket=False)
    assert p.returncode != 0 and "cannot connect" in p.stderr


def test_geoip_enrichment():
    with Client(daemon.socket) as c:
        r = c.decide("signup", dict(GOOD_SIGNUP, ip="45.77.1.2", country="DE", asn=None))
        f = r["features"]
        assert f["geo_country"] == "US" and f["geo_asn"] == 20473, f
        assert f["geo_asn_org"]  # the organisation's name, from the ASN database
        reasons = {x["rule"]: x for x in r["reasons"]}
        assert reasons["datacenter_network"]["detail"].startswith("AS20473 ")
        assert reasons["country_mismatch"]["detail"] == "claims DE, IP in US"
        v6 = c.decide("signup", dict(GOOD_SIGNUP, ip="2a02:8100::1"))
        assert v6["features"]["geo_country"] == "DE" and v6["features"]["geo_asn"] == 31334
        junk = c.decide("signup", dict(GOOD_SIGNUP, ip="not an ip"))
        assert "geo_country" not in junk["features"] and junk["faults"] == []
        stage = c.call("stats", [])["pipelines"]["signup"]["stages"]["geoip"]
        assert stage["runs"] >= 3 and stage["faults"] == 0


def test_values_of_every_type():
    event = {"ip": "198.51.100.4", "nested": {"list": [1, -2, 3.5, True, None, "x", b"\xff"]},
             "big": 2 ** 63, "neg": -(2 ** 62), "f": 1.5, "flag": False, "nothing": None}
    with Client(daemon.socket) as c:
        r = c.decide("signup", event)
        assert r["action"] in ("allow", "challenge", "block") and r["faults"] == []


def main():
    global daemon
    with Daemon() as d:
        daemon = d
        status = run_tests([test_signup_decisions, test_shadow_stage_reported_not_applied,
                   test_mail_decisions, test_explain_trace, test_ping_pipelines_stats, test_cli,
                   test_geoip_enrichment,
                   test_values_of_every_type])
    return status


if __name__ == "__main__":
    sys.exit(main())
