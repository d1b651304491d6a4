"""Any msgpack-RPC client is welcome (issue 11): independent msgpack implementations from
Debian talk to a real verdictd over its Unix socket, and Python's msgpack reads every reply
with its default, strict settings.

Each client in clients/ runs the same checks in its own language and library (ping, a
decision on the shipped signup pipeline and the reply's documented shape, method names, keys
and values sent as bin, pipelined requests matched by msgid, notifications, unknown method,
invalid UTF-8 repaired, bad params, unknown pipeline), prints "ok CHECK" for each and the
decision it decoded, which must equal the one this file's client decodes. The packages come
with make test (DEPS in the Makefile); run by hand without one, its client is skipped."""

import json
import os
import subprocess
import sys

import msgpack

from vdtest import SOURCE, Client, Daemon, policy_dir, require, run_tests

CLIENTS = os.path.join(SOURCE, "tests", "e2e", "clients")
CHECKS = ["ping", "decide", "bin", "pipelined", "notification", "unknown_method", "repair",
          "bad_params", "unknown_pipeline"]
# What every client decides (with its own IP, so that the velocity rules of one client's
# requests do not fire for another's).
BAD = {"email": "x@mailinator.com", "username": "bob1234"}
daemon = None


def run_client(package, probe, cmd, ip):
    """Runs a client script against the daemon; checks that it passed every check and decoded
    the decision this file's client decodes."""
    require(package, probe, "sudo apt-get install %s, or make deps" % package)
    p = subprocess.run(cmd + [daemon.socket, ip], capture_output=True, text=True, timeout=60)
    out = p.stdout + p.stderr
    assert p.returncode == 0, "%s exited with %d:\n%s" % (cmd[-1], p.returncode, out)
    lines = p.stdout.splitlines()
    assert [x[3:] for x in lines if x.startswith("ok ")] == CHECKS, out
    decoded = [json.loads(x[9:]) for x in lines if x.startswith("decision ")]
    assert len(decoded) == 1, out
    with Client(daemon.socket) as c:
        ours = c.decide("signup", dict(BAD, ip=ip))
    for d in (decoded[0], ours):  # what differs from one request to the next
        assert len(d.pop("id")) == 26, d
        del d["elapsed_us"]
        del d["features"]["net_signups_hour"]
        d["features"].pop("asn_signups_hour", None)  # when the IP has an ASN
    assert decoded[0] == ours, (decoded[0], ours)


def test_ruby_msgpack():
    run_client("ruby-msgpack", ["/usr/bin/ruby", "-rmsgpack", "-e", ""],
               ["/usr/bin/ruby", os.path.join(CLIENTS, "ruby_client.rb")], "81.2.69.160")


def test_perl_data_messagepack():
    run_client("libdata-messagepack-perl", ["/usr/bin/perl", "-MData::MessagePack", "-e", ""],
               ["/usr/bin/perl", os.path.join(CLIENTS, "perl_client.pl")], "89.160.20.112")


def test_pynvim_msgpack_rpc():
    run_client("python3-pynvim", [sys.executable, "-c", "import pynvim.msgpack_rpc"],
               [sys.executable, os.path.join(CLIENTS, "pynvim_client.py")], "2001:db8:5::7")


def strict_replies(sock, requests):
    """Sends the requests at once; returns their replies by msgid, read with python3-msgpack's
    default Unpacker (raw=False: str must be valid UTF-8, else the whole reply raises)."""
    sock.sendall(b"".join(requests))
    unpacker = msgpack.Unpacker()
    replies = {}
    while len(replies) < len(requests):
        data = sock.recv(1 << 16)
        assert data, "connection closed after %d replies" % len(replies)
        unpacker.feed(data)
        for msg in unpacker:
            assert msg[0] == 1 and len(msg) == 4, msg
            replies[msg[1]] = (msg[2], msg[3])
    return replies


def raw(msg):
    """Packed with strings as str whatever bytes they hold, as old msgpack libraries did."""
    return msgpack.packb(msg, use_bin_type=False)


def test_default_unpacker_reads_replies_to_invalid_utf8():
    bad = b"G\xffB \xe2\x82 \xf0\x9f\x98 \xc0\xaf"
    text = bad.decode("utf-8", "replace")
    event = dict(BAD, ip="198.51.100.7", country=bad, user_agent=b"Mozilla/5.0 \xff")
    with Client(daemon.socket) as c:
        r = strict_replies(c.sock, [
            raw([0, 1, "decide", ["signup", event, {"explain": True}]]),
            msgpack.packb([0, 2, "decide", ["signup", event]]),  # bad bytes as bin
            raw([0, 3, b"decide" + bad, []]),
            msgpack.packb([0, 4, b"decide" + bad, []]),
            raw([0, 5, "decide", [b"signup" + bad, event]]),
            raw([0, 6, "ping", []]), raw([0, 7, "pipelines", []]), raw([0, 8, "stats", []])])
    for msgid in (1, 2):
        err, res = r[msgid]
        assert err is None, err
        mismatch = [x for x in res["reasons"] if x["rule"] == "country_mismatch"]
        assert mismatch and mismatch[0]["detail"] == "claims %s, IP in AU" % text, res
    assert "trace" in r[1][1]
    assert r[3][0]["code"] == r[4][0]["code"] == "unknown_method", r
    assert "'decide%s'" % text in r[3][0]["message"] and r[3][0] == r[4][0], r
    assert r[5][0]["code"] == "unknown_pipeline" and "'signup%s'" % text in r[5][0]["message"]
    assert r[6] == (None, "pong") and r[7][0] is None and r[8][0] is None, r


# Every place a reply carries text of the policy's or of the request's: rule, stage, pipeline
# and file names, tags, features (names and values), details, fault messages, the trace.
LATIN1_POLICY = b"""
rule "caf\xe9" { score = 1, tags = {"t\xe9"},
  when = function(ev, ctx)
    ctx:set("f\xe9", ev.claim)
    ctx:set(ev.claim, 1)
    ctx:tag(ev.claim)
    return true, ev.claim
  end }
rule "boom" { score = 1, when = function(ev) error("bad claim " .. ev.claim) end }
pipeline "p\xe9" { description = "\xe9t\xe9", stages = {
  stage "s\xe9" {"caf\xe9", "boom"}, stage "trial" {"caf\xe9", shadow = true} } }
"""


def test_default_unpacker_reads_replies_to_a_latin1_policy():
    pol = policy_dir({})
    with open(os.path.join(os.fsencode(pol), b"caf\xe9.lua"), "wb") as f:
        f.write(LATIN1_POLICY)
    claim = b"claims \xff\xfe \xe2\x82"
    with Daemon(policies=pol) as d, Client(d.socket) as c:
        r = strict_replies(c.sock, [
            raw([0, 1, "decide", [b"p\xe9", {"claim": claim}, {"explain": True}]]),
            raw([0, 2, "pipelines", []]), raw([0, 3, "stats", []]),
            raw([0, 4, "decide", ["nope", {}]])])
    assert all(err is None for err, _ in (r[1], r[2], r[3])), r
    res, text = r[1][1], claim.decode("utf-8", "replace")
    assert res["pipeline"] == "p\ufffd" and res["tags"] == [text, "t\ufffd"], res
    assert res["reasons"][0] == {"rule": "caf\ufffd", "stage": "s\ufffd", "score": 1.0,
                                 "detail": text}, res
    assert res["features"] == {"f\ufffd": text, text: 1}, res
    assert res["faults"][0]["message"].endswith("bad claim " + text), res
    assert "caf\ufffd.lua" in res["faults"][0]["message"], res
    assert [x["stage"] for x in res["trace"]] == ["s\ufffd", "trial"], res
    assert r[2][1][0]["description"] == "\ufffdt\ufffd", r[2]
    assert "p\ufffd" in r[3][1]["pipelines"], r[3]
    assert r[4][0]["code"] == "unknown_pipeline" and "p\ufffd" in r[4][0]["message"], r[4]


def main():
    global daemon
    with Daemon(args=["--workers", "2"]) as d:
        daemon = d
        return run_tests([test_ruby_msgpack, test_perl_data_messagepack, test_pynvim_msgpack_rpc,
                          test_default_unpacker_reads_replies_to_invalid_utf8,
                          test_default_unpacker_reads_replies_to_a_latin1_policy])


if __name__ == "__main__":
    sys.exit(main())
