"""The admin socket (verdictd --admin-socket): state read, set and reset by key, embedded and in
Redis, list checks, who changed what in the log, and the errors that help: forbidden on the
ordinary socket, policy_error on a refused reload, a broken list file on reload."""

import atexit
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

from vdtest import (SHIPPED, VERDICT, VERDICTD, Client, Daemon, RedisServer, expect_error,
                    free_port, policy_dir, run_tests, wait_for)

LIST_POLICY = """
local nets = verdict.list.ips "lists/nets.txt"
local domains = verdict.list.domains "lists/domains.txt"
local agents = verdict.list.exact "lists/agents.txt"
rule "listed_network" { score = 5, when = verdict.when.is_in("ip", nets) }
rule "listed_domain" { score = 5, when = verdict.when.email_domain_in("email", domains) }
rule "listed_agent" { score = 5, when = verdict.when.is_in("user_agent", agents) }
pipeline "p" { stages = { stage "s" { "listed_network", "listed_domain", "listed_agent" } },
  actions = { block = 5 } }
"""
NETS = "198.51.100.0/24 hosting\n198.51.100.7 scanner\n2001:db8::/32 docs\n"
DOMAINS = "# disposable\nthrowaway.test\n*.burner.test\n"


class AdminDaemon(Daemon):
    """A verdictd with an admin socket next to its ordinary one."""

    def __init__(self, policies=SHIPPED, args=(), mode=None):
        admin_dir = tempfile.mkdtemp(prefix="vd-e2e-admin-")
        atexit.register(shutil.rmtree, admin_dir, True)
        self.admin = os.path.join(admin_dir, "admin.sock")
        extra = ["--admin-socket", self.admin] + (["--admin-socket-mode", mode] if mode else [])
        super().__init__(policies=policies, args=extra + list(args))


def cli(*args, env_socket=None, socket=None):
    env = dict(os.environ, VERDICT_SOCKET="/nonexistent.sock")
    env.pop("VERDICT_ADMIN_SOCKET", None)
    if env_socket:
        env["VERDICT_ADMIN_SOCKET"] = env_socket
    cmd = [VERDICT] + (["--socket", socket] if socket else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def test_changes_are_forbidden_on_the_ordinary_socket():
    with AdminDaemon() as vd, Client(vd.socket) as c:
        for method, params in (("state_set", ["counter", "k", 3]),
                               ("state_reset", ["label", "k"])):
            e = expect_error(lambda: c.call(method, params), "forbidden", method,
                             "--admin-socket")
            assert "admin socket" in e.message
        # Reading changes nothing: allowed on both sockets.
        assert c.call("state_get", ["counter", "k"])["day"] == 0
        assert c.call("list_check", ["lists/disposable_domains.txt", "x.mailinator.com"])["hit"]
        assert c.call("stats", [])["errors_by_code"]["forbidden"] == 2
        with Client(vd.admin) as a:  # every method works on the admin socket
            assert a.call("ping", []) == "pong"
            assert a.call("state_set", ["counter", "k", 3])["new"]["hour"] == 3
            assert a.decide("signup", {"ip": "192.0.2.1"})["action"] == "allow"
    with Daemon() as vd, Client(vd.socket) as c:  # no admin socket: no changes at all
        expect_error(lambda: c.call("state_reset", ["counter", "k"]), "forbidden")


def test_socket_files_and_modes():
    with AdminDaemon() as vd:
        assert stat.S_IMODE(os.stat(vd.admin).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(vd.socket).st_mode) == 0o660
        vd.stop()
        assert not os.path.exists(vd.admin) and not os.path.exists(vd.socket)
    with AdminDaemon(mode="0640") as vd:
        assert stat.S_IMODE(os.stat(vd.admin).st_mode) == 0o640
    same = subprocess.run([VERDICTD, "--socket", "/tmp/x.sock", "--admin-socket", "/tmp/x.sock",
                           "--check"], capture_output=True, text=True, timeout=60)
    assert same.returncode == 2 and "another path than --socket" in same.stderr, same.stderr


def check_kinds(a, backend):
    """get, set and reset of each kind through the admin client a; returns nothing."""
    r = a.call("state_set", ["counter", "t:counter", 40])
    assert r == {"kind": "counter", "key": "t:counter", "backend": backend,
                 "old": {"minute": 0, "hour": 0, "day": 0},
                 "new": {"minute": 40, "hour": 40, "day": 40}}, r
    assert a.call("state_get", ["counter", "t:counter"])["hour"] == 40
    r = a.call("state_reset", ["counter", "t:counter"])
    assert r["old"]["day"] == 40 and r["new"] == {"minute": 0, "hour": 0, "day": 0}, r

    r = a.call("state_set", ["distinct", "t:distinct", 25, {"ttl": 600}])
    assert r["old"] == {"count": 0} and r["new"] == {"count": 25}, r
    assert a.call("state_get", ["distinct", "t:distinct"])["count"] == 25
    assert a.call("state_reset", ["distinct", "t:distinct"])["new"] == {"count": 0}

    r = a.call("state_set", ["label", "t:label", 600])
    assert r["old"] == {"ttl": None} and r["new"] == {"ttl": 600}, r
    assert 598 <= a.call("state_get", ["label", "t:label"])["ttl"] <= 600
    r = a.call("state_reset", ["label", "t:label"])
    assert 598 <= r["old"]["ttl"] <= 600 and r["new"] == {"ttl": None}, r
    assert a.call("state_get", ["label", "t:label"])["ttl"] is None

    expect_error(lambda: a.call("state_set", ["gauge", "k", 1]), "bad_request", "counter")
    expect_error(lambda: a.call("state_set", ["distinct", "k", 10001]), "bad_request",
                 "at most 10000")
    expect_error(lambda: a.call("state_set", ["counter", "k", 1, {"ttl": 5}]), "bad_request",
                 "distinct counts only")
    expect_error(lambda: a.call("state_get", ["label", ""]), "bad_request", "non-empty")


def test_get_set_reset_embedded_with_stats_and_metrics():
    port = free_port()
    with AdminDaemon(args=["--metrics", "127.0.0.1:%d" % port]) as vd, Client(vd.admin) as a:
        check_kinds(a, "embedded")
        changes = a.call("stats", [])["admin_changes"]
        assert changes == {"state_set": {"counter": 1, "distinct": 1, "label": 1, "campaign": 0},
                           "state_reset": {"counter": 1, "distinct": 1, "label": 1,
                                           "campaign": 0}}, changes
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
            body = r.read().decode()
        assert 'verdict_admin_changes_total{method="state_reset",kind="label"} 1' in body
        assert 'verdict_errors_total{code="forbidden"} 0' in body
        assert 'verdict_errors_total{code="policy_error"} 0' in body


def login(c, account, ok):
    return c.decide("login", {"account": account, "ip": "203.0.113.9", "password_ok": ok})


def rules(reply):
    return [r["rule"] for r in reply["reasons"]]


def unlock_after_a_false_positive(vd):
    """The worked example of docs/operations.md on the shipped login pipeline: six wrong
    passwords flag the account for an hour; the operator resets the label and the counter, and
    the next sign-ins are judged afresh."""
    with Client(vd.socket) as c, Client(vd.admin) as a:
        for _ in range(6):
            login(c, "alice", False)
        assert "account_under_attack" in rules(login(c, "alice", True))
        fails = a.call("state_get", ["counter", "login:fail:acct:alice"])
        assert fails["hour"] == 6, fails
        assert a.call("state_reset", ["label", "login:attack:alice"])["new"] == {"ttl": None}
        assert a.call("state_reset", ["counter", "login:fail:acct:alice"])["old"]["hour"] == 6
        r = login(c, "alice", True)
        assert "account_under_attack" not in rules(r) and r["action"] == "allow", r
        r = login(c, "alice", False)  # the counter starts again from nothing
        assert "failed_logins_for_account" not in rules(r), r
        assert a.call("state_get", ["counter", "login:fail:acct:alice"])["hour"] == 1


def test_a_reset_is_seen_by_the_next_decision():
    with AdminDaemon(args=["--workers", "2"]) as vd:
        unlock_after_a_false_positive(vd)


def test_changes_are_logged_with_who_made_them():
    with AdminDaemon() as vd, Client(vd.admin) as a:
        a.call("state_set", ["label", "acct:\n\"forged\"", 60])
        a.call("state_reset", ["counter", "login:fail:acct:bob"])
        a.call("state_get", ["counter", "login:fail:acct:bob"])  # reads are not logged
        out = vd.output()
    who = "admin change by uid %d (gid %d, pid %d)" % (os.getuid(), os.getgid(), os.getpid())
    lines = [l for l in out.splitlines() if "admin change" in l]
    assert len(lines) == 2, lines
    assert " info " in lines[0] and who in lines[0], lines
    assert 'state_set label "acct:\\x0a\\x22forged\\x22": ttl unset -> 60 s' in lines[0], lines
    assert 'state_reset counter "login:fail:acct:bob": minute 0 -> 0, hour 0 -> 0, day 0 -> 0' \
        in lines[1], lines


def test_cli_state_and_list_check():
    pdir = policy_dir({"main.lua": LIST_POLICY, "lists/nets.txt": NETS,
                       "lists/domains.txt": DOMAINS, "lists/agents.txt": "curl/8.0\n"})
    with AdminDaemon(policies=pdir) as vd:
        p = cli("state", "set", "counter", "cli:k", "7", "--compact", env_socket=vd.admin)
        assert p.returncode == 0 and '"new":{"minute":7,"hour":7,"day":7}' in p.stdout, p
        p = cli("--socket", vd.admin, "state", "get", "counter", "cli:k", "--compact")
        assert p.returncode == 0 and '"day":7' in p.stdout, p
        p = cli("state", "reset", "counter", "cli:k", socket=vd.socket)  # the ordinary one
        assert p.returncode == 1 and "error forbidden:" in p.stderr, p
        assert "is not an admin socket" in p.stderr and "$VERDICT_ADMIN_SOCKET" in p.stderr, p
        p = cli("state", "reset", "label", "cli:typo", env_socket=vd.admin)  # nothing there
        assert p.returncode == 1 and "nothing is stored under 'cli:typo'" in p.stderr, p
        p = cli("state", "get", "counter", "cli:typo", env_socket=vd.admin)
        assert p.returncode == 0 and "nothing is stored under 'cli:typo'" in p.stderr, p
        p = cli("state", "get", "counter")
        assert p.returncode == 2 and "usage" in p.stderr, p
        p = cli("state", "get", "counter", "k")  # $VERDICT_SOCKET then
        assert p.returncode == 3 and "cannot connect to /nonexistent.sock" in p.stderr, p

        p = cli("list", "check", "lists/nets.txt", "198.51.100.7", env_socket=vd.admin)
        assert p.returncode == 0 and p.stdout.startswith(
            "hit: 198.51.100.7 matches 198.51.100.7 (scanner) in "), p
        p = cli("list", "check", "lists/domains.txt", "a.b.burner.test", env_socket=vd.socket)
        assert p.returncode == 0 and "matches burner.test in" in p.stdout, p
        p = cli("list", "check", "lists/nets.txt", "192.0.2.1", env_socket=vd.admin)
        assert p.returncode == 1 and p.stdout.startswith("miss: 192.0.2.1 is not in "), p
        p = cli("list", "check", "lists/nets.txt", "not-an-ip", env_socket=vd.admin)
        assert p.returncode == 2 and "is not an IP address" in p.stderr, p
        p = cli("list", "check", "lists/other.txt", "x", env_socket=vd.admin)
        assert p.returncode == 2 and "lists/nets.txt (ip)" in p.stderr, p
        p = cli("list", "check", "lists/agents.txt", "curl/8.0", "--json", "--compact",
                env_socket=vd.admin)
        assert p.returncode == 0 and '"kind":"exact","value":"curl/8.0","hit":true' in p.stdout


def test_list_check_ip_prefixes_and_domains():
    pdir = policy_dir({"main.lua": LIST_POLICY, "lists/nets.txt": NETS,
                       "lists/domains.txt": DOMAINS, "lists/agents.txt": "curl/8.0\n"})
    with AdminDaemon(policies=pdir) as vd, Client(vd.socket) as c:
        def check(path, value, **opts):
            return c.call("list_check", [path, value] + ([opts] if opts else []))
        r = check("lists/nets.txt", "198.51.100.9")
        assert r["hit"] and r["entry"] == "198.51.100.0/24" and r["entry_value"] == "hosting", r
        assert r["kind"] == "ip" and r["list"] == os.path.realpath(pdir + "/lists/nets.txt"), r
        assert check("lists/nets.txt", "198.51.100.7")["entry"] == "198.51.100.7"  # as listed
        assert check("lists/nets.txt", "2001:db8:5::1")["entry_value"] == "docs"
        assert check("lists/nets.txt", "::ffff:198.51.100.3")["entry"] == "198.51.100.0/24"
        r = check("lists/nets.txt", "203.0.113.1")
        assert r["hit"] is False and r["entry"] is None and r["entry_value"] is None, r
        r = check("lists/domains.txt", "Mail.Throwaway.TEST.")
        assert r["hit"] and r["entry"] == "throwaway.test" and r["entry_value"] == "", r
        assert not check("lists/domains.txt", "throwaway.test.example")["hit"]
        assert check(os.path.join(pdir, "lists/agents.txt"), "curl/8.0", kind="exact")["hit"]
        expect_error(lambda: check("lists/agents.txt", "x", kind="ip"), "bad_request",
                     "not a list the policies load")
        expect_error(lambda: check("lists/nets.txt", "x", kind="cidr"), "bad_request",
                     '"ip", "domain" or "exact"')
        expect_error(lambda: c.call("list_check", ["lists/nets.txt"]), "bad_request",
                     "list_check takes [path, value]")


def test_redis_get_set_reset():
    redis = RedisServer()
    try:
        args = ["--redis", "unix:" + redis.socket, "--workers", "2"]
        with AdminDaemon(args=args) as vd, Daemon(args=args) as other:
            with Client(vd.admin) as a:
                assert wait_for(lambda: a.call("stats", [])["state"]["redis"]
                                ["connected_workers"] == 2)
                check_kinds(a, "redis")
                a.call("state_set", ["label", "shared", 300])
                a.call("state_set", ["counter", "shared", 9])
            assert redis.command("EXISTS", "verdict:l:{shared}") == b":1\r\n"
            assert redis.command("HLEN", "verdict:c:{shared}") == b":3\r\n"
            with Client(other.socket) as o:  # another daemon on the same Redis sees it
                assert wait_for(lambda: o.call("state_get", ["counter", "shared"])["hour"] == 9)
                assert o.call("state_get", ["label", "shared"])["backend"] == "redis"
            unlock_after_a_false_positive(vd)
            assert redis.command("EXISTS", "verdict:l:{login:attack:alice}") == b":0\r\n"
            redis.kill()  # no fallback for an operator: the error says Redis did not answer
            with Client(vd.admin) as a:
                expect_error(lambda: a.call("state_reset", ["counter", "shared"]), "internal",
                             "Redis did not confirm the change")
                expect_error(lambda: a.call("state_get", ["counter", "shared"]), "internal",
                             "cannot read it from Redis")
                assert a.call("stats", [])["admin_changes"]["state_reset"]["counter"] == 2
    finally:
        redis.kill()


CAMPAIGN_POLICY = """
rule "copies" { score = 1,
  when = function(ev, ctx)
    local c = verdict.campaign("text", ev.body, { source = ev.from })
    ctx:set("campaign", c.id)
    ctx:set("size", c.size)
    ctx:set("bad", c.bad)
    return c.bad > 0
  end }
pipeline "mail" { stages = { stage "s" { "copies" } }, actions = { junk = 1 } }
"""
TEXT = "Your parcel %d is held at the depot: pay the customs fee within two days or it goes back."


def check_campaign(vd, backend):
    """A poisoned campaign read and removed through the admin socket: the next copy starts a
    new one, without the reports."""
    with Client(vd.socket) as c, Client(vd.admin) as a:
        for i in range(3):
            f = c.decide("mail", {"from": "x%d@a.test" % i, "body": TEXT % i})["features"]
        key = "text:" + f["campaign"]
        c.call("report", ["mail", {"from": "y@a.test", "body": TEXT % 9}, "bad",
                          {"reporter": "mallory"}])
        r = c.call("state_get", ["campaign", key])  # reading is allowed on any socket
        assert r["found"] and r["backend"] == backend, r
        assert r["campaign"]["size"] == 3 and r["campaign"]["bad"] == 1.0, r
        expect_error(lambda: c.call("state_reset", ["campaign", key]), "forbidden", "admin")
        expect_error(lambda: a.call("state_set", ["campaign", key, 1]), "bad_request",
                     "cannot be set")
        expect_error(lambda: a.call("state_get", ["campaign", "text:xyz"]), "bad_request",
                     "16 hex digits")
        r = a.call("state_reset", ["campaign", key])
        assert r["found"] and r["old"]["bad"] == 1.0, r
        assert a.call("state_get", ["campaign", key])["found"] is False
        assert a.call("state_reset", ["campaign", key])["found"] is False
        f = c.decide("mail", {"from": "x9@a.test", "body": TEXT % 7})["features"]
        assert f["size"] == 1 and f["bad"] == 0, f  # started afresh, reports gone
        assert a.call("stats", [])["admin_changes"]["state_reset"]["campaign"] == 1
    assert "admin change by uid" in vd.output() and "removed: 3 items, bad 1" in vd.output()
    out = cli("state", "reset", "campaign", "text:" + f["campaign"], socket=vd.admin)
    assert out.returncode == 0 and '"found": true' in out.stdout, out


def test_campaign_get_and_reset():
    pol = policy_dir({"p.lua": CAMPAIGN_POLICY})
    with AdminDaemon(policies=pol) as vd:
        check_campaign(vd, "embedded")
    redis = RedisServer()
    try:
        with AdminDaemon(policies=pol, args=["--redis", "unix:" + redis.socket]) as vd:
            with Client(vd.socket) as c:
                assert wait_for(lambda: c.call("stats", [])["state"]["redis"]
                                ["connected_workers"] >= 1)
            check_campaign(vd, "redis")
    finally:
        redis.kill()


BAD_RULE = """
rule "r" { score = 1,
  when = function(ev) return ev.x > end }
pipeline "p" { stages = { stage "s" { "r" } } }
"""


def test_policy_error_on_a_refused_reload():
    pdir = policy_dir({"main.lua": LIST_POLICY, "lists/nets.txt": NETS,
                       "lists/domains.txt": DOMAINS, "lists/agents.txt": ""})
    with AdminDaemon(policies=pdir) as vd, Client(vd.socket) as c:
        with open(os.path.join(pdir, "broken.lua"), "w") as f:
            f.write(BAD_RULE)
        expect_error(lambda: c.call("reload", []), "policy_error", "broken.lua:3:",
                     "still serving the previous policy")
        p = cli("reload", socket=vd.socket)
        assert p.returncode == 1 and "error policy_error:" in p.stderr, p
        assert "broken.lua:3:" in p.stderr
        assert c.call("stats", [])["errors_by_code"]["policy_error"] == 2


def test_a_broken_list_keeps_its_last_version_on_reload():
    pdir = policy_dir({"main.lua": LIST_POLICY, "lists/nets.txt": NETS,
                       "lists/domains.txt": DOMAINS, "lists/agents.txt": ""})
    nets = os.path.join(pdir, "lists/nets.txt")
    port = free_port()
    args = ["--list-check-ms", "50", "--metrics", "127.0.0.1:%d" % port]
    with AdminDaemon(policies=pdir, args=args) as vd, Client(vd.socket) as c:
        with open(nets + ".new", "w") as f:
            f.write("192.0.2.0/24\n192.0.2.300\n")
        os.rename(nets + ".new", nets)
        version = c.call("reload", [])  # the policy reload goes on
        assert isinstance(version, str) and len(version) == 16
        r = c.decide("p", {"ip": "198.51.100.9", "email": "a@example.org"})
        assert rules(r) == ["listed_network"], r  # the last good version
        assert not c.call("list_check", ["lists/nets.txt", "192.0.2.1"])["hit"]
        c.call("reload", [])
        assert wait_for(lambda: vd.output().count("nets.txt:2: not an IP address") >= 1)
        time.sleep(0.3)  # the watcher looks six times meanwhile: nothing new to say
        out = vd.output()
        assert out.count("the new version is refused") == 1, out
        assert " warn " in [l for l in out.splitlines() if "is refused" in l][0]
        lists = {os.path.basename(l["path"]): l for l in c.call("stats", [])["lists"]}
        assert lists["nets.txt"]["errors"] == 1 and lists["nets.txt"]["entries"] == 3, lists
        assert "nets.txt:2: not an IP address or CIDR prefix: '192.0.2.300'" in \
            lists["nets.txt"]["error"]
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as m:
            body = m.read().decode()
        assert re.search(r'verdict_list_stale\{path="[^"]*nets.txt"\} 1', body), body
        p = cli("reload", socket=vd.socket)  # succeeds, and says which list is stale
        assert p.returncode == 0 and "nets.txt keeps its last good version: " in p.stderr, p
        assert "not an IP address or CIDR prefix" in p.stderr, p
        with open(nets + ".new", "w") as f:  # fixed: the next reload takes it
            f.write("192.0.2.0/24 office\n")
        os.rename(nets + ".new", nets)
        c.call("reload", [])
        assert c.call("list_check", ["lists/nets.txt", "192.0.2.1"])["entry_value"] == "office"
        lists = {os.path.basename(l["path"]): l for l in c.call("stats", [])["lists"]}
        assert lists["nets.txt"]["error"] == "" and lists["nets.txt"]["entries"] == 1, lists


def main():
    return run_tests([test_changes_are_forbidden_on_the_ordinary_socket,
                      test_socket_files_and_modes,
                      test_get_set_reset_embedded_with_stats_and_metrics,
                      test_a_reset_is_seen_by_the_next_decision,
                      test_changes_are_logged_with_who_made_them,
                      test_cli_state_and_list_check,
                      test_list_check_ip_prefixes_and_domains,
                      test_redis_get_set_reset,
                      test_campaign_get_and_reset,
                      test_policy_error_on_a_refused_reload,
                      test_a_broken_list_keeps_its_last_version_on_reload])


if __name__ == "__main__":
    sys.exit(main())
