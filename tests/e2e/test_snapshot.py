"""State persistence (--state-snapshot): counters, distinct counts and labels survive a
restart (SIGTERM, or SIGKILL after an interval snapshot), entries expire while the daemon is
down as they would have, a damaged file is set aside, bad settings are refused."""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from vdtest import (DATA, SHIPPED, VERDICTD, Client, Daemon, free_port, policy_dir, run_tests,
                    wait_for)

# A label for ev.ttl seconds when asked, and a rule that fires while it is set.
LABELS = """
rule "flagged" { score = 1,
  when = function(ev)
    if ev.ttl then verdict.label("flag:" .. ev.key, ev.ttl) end
    return verdict.labeled("flag:" .. ev.key) ~= nil
  end }
pipeline "p" { stages = { stage "s" {"flagged"} } }
"""


def snapshot_path():
    d = tempfile.mkdtemp(prefix="vd-e2e-snap-")
    atexit.register(shutil.rmtree, d, True)
    return os.path.join(d, "state.snap")


def login(c, account, ip, ok):
    return c.decide("login", {"account": account, "ip": ip, "password_ok": ok})


def rules(r):
    return [x["rule"] for x in r["reasons"]]


def snapshot_stats(c):
    return c.call("stats", [])["state"]["snapshot"]


def attack(c, account):
    """Six wrong passwords: the account is under attack (a counter and a label)."""
    actions = [login(c, account, "80.133.10.20", False)["action"] for _ in range(6)]
    assert actions == ["allow"] * 5 + ["second_factor"], actions


def expect_attack_remembered(c, account):
    r = login(c, account, "80.133.10.20", True)  # the right password, still suspicious
    assert r["action"] == "second_factor" and rules(r) == ["account_under_attack"], r
    r = login(c, account, "80.133.10.20", False)  # the hour's count goes on from six
    assert "7 failures in the hour" in [x.get("detail") for x in r["reasons"]], r


def test_state_survives_sigterm():
    path = snapshot_path()
    with Daemon(args=["--workers", "2", "--state-snapshot", path]) as vd:
        with Client(vd.socket) as c:
            attack(c, "alice")
            for i in range(11):  # one address, many accounts: a distinct count
                login(c, "victim%d" % i, "45.77.9.9", False)
            assert login(c, "bob", "80.133.10.20", True)["action"] == "allow"  # DE, remembered
            assert snapshot_stats(c)["writes"] == 0  # the interval has not come yet
        vd.stop()
        assert "state snapshot %s: " % path in vd.output(), vd.output()
    assert os.stat(path).st_mode & 0o777 == 0o600
    with Daemon(args=["--workers", "2", "--state-snapshot", path]) as vd:
        assert "state snapshot %s loaded" % path in vd.output(), vd.output()
        with Client(vd.socket) as c:
            s = snapshot_stats(c)
            assert s["loaded"] > 10 and s["loaded_expired"] == 0 and s["load_failures"] == 0, s
            assert s["loaded_written_at"] > time.time() - 120, s
            expect_attack_remembered(c, "alice")
            r = login(c, "victim11", "45.77.9.9", False)
            assert "many_accounts_from_ip" in rules(r), r
            assert login(c, "bob", "91.64.1.1", True)["action"] == "allow"  # DE: known
            r = login(c, "bob", "45.77.1.2", True)  # US: the profile says it is new
            assert rules(r) == ["new_country", "impossible_travel"], r  # seconds after DE
            assert r["features"]["profile_sign_ins"] == 2, r  # both German sign-ins remembered


def test_state_survives_sigkill_after_an_interval_snapshot():
    path = snapshot_path()
    vd = Daemon(args=["--workers", "2", "--state-snapshot", path,
                      "--state-snapshot-interval", "1"])
    try:  # a failed check must not leave the daemon running
        with Client(vd.socket) as c:
            attack(c, "carol")
            after = snapshot_stats(c)["writes"]
            # Two more writes: the second began after the last decision.
            assert wait_for(lambda: snapshot_stats(c)["writes"] >= after + 2), snapshot_stats(c)
            s = snapshot_stats(c)
            assert s["failures"] == 0 and s["last_entries"] > 0 and s["last_error"] == "", s
            assert s["last_seconds"] < 5 and s["last_bytes"] == os.path.getsize(path), s
        vd.signal(signal.SIGKILL)  # a crash: no drain, no last snapshot
        vd.proc.wait(30)
    finally:
        vd.discard()
    with Daemon(args=["--workers", "2", "--state-snapshot", path]) as vd:
        with Client(vd.socket) as c:
            assert snapshot_stats(c)["loaded"] > 0
            expect_attack_remembered(c, "carol")
        assert not os.path.exists(path + ".tmp")


def test_entries_expire_while_down():
    path = snapshot_path()
    policies = policy_dir({"p.lua": LABELS})
    with Daemon(policies=policies, args=["--state-snapshot", path]) as vd:
        with Client(vd.socket) as c:
            assert c.decide("p", {"key": "short", "ttl": 4})["score"] == 1
            assert c.decide("p", {"key": "long", "ttl": 3600})["score"] == 1
        vd.signal(signal.SIGINT)  # SIGINT writes the snapshot as SIGTERM does
        assert vd.proc.wait(30) == 0
    time.sleep(5)  # the short label's time passes while no daemon runs
    with Daemon(policies=policies, args=["--state-snapshot", path]) as vd:
        with Client(vd.socket) as c:
            s = snapshot_stats(c)
            assert s["loaded"] == 1 and s["loaded_expired"] == 1, s
            assert c.decide("p", {"key": "short"})["score"] == 0
            assert c.decide("p", {"key": "long"})["score"] == 1
        assert "1 entries, 1 expired while the daemon was down" in vd.output(), vd.output()


def test_a_damaged_snapshot_is_set_aside():
    path = snapshot_path()
    policies = policy_dir({"p.lua": LABELS})
    with Daemon(policies=policies, args=["--state-snapshot", path]) as vd:
        with Client(vd.socket) as c:
            for i in range(50):
                c.decide("p", {"key": "k%d" % i, "ttl": 3600})
    with open(path, "rb") as f:
        whole = f.read()
    cases = [(whole[:len(whole) // 2], "truncated"),
             (b"counter,ip,42\n" * 4, "not a Verdict state snapshot"),
             (whole[:20] + bytes([whole[20] ^ 1]) + whole[21:], "corrupt: checksum")]
    for content, why in cases:
        with open(path, "wb") as f:
            f.write(content)
        with Daemon(policies=policies, args=["--state-snapshot", path]) as vd:
            with Client(vd.socket) as c:
                s = snapshot_stats(c)
                assert s["load_failures"] == 1 and s["loaded"] == 0, s
                assert why in s["load_error"] and path in s["load_error"], s
                assert c.decide("p", {"key": "k1"})["score"] == 0  # started empty
                c.decide("p", {"key": "k1", "ttl": 3600})
            out = vd.output()
            assert "state snapshot refused, starting with empty state" in out, out
            assert why in out and path + ".bad" in out, out
        with open(path + ".bad", "rb") as f:
            assert f.read() == content  # kept for whoever looks into it
        with Daemon(policies=policies, args=["--state-snapshot", path]) as vd:
            with Client(vd.socket) as c:  # the next snapshot replaced it
                s = snapshot_stats(c)
                assert s["loaded"] == 1 and s["load_failures"] == 0, s


def test_write_failures_are_logged_once():
    path = snapshot_path()
    d = os.path.dirname(path)
    args = ["--state-snapshot", path, "--state-snapshot-interval", "1"]
    with Daemon(policies=policy_dir({"p.lua": LABELS}), args=args) as vd:
        with Client(vd.socket) as c:
            c.decide("p", {"key": "a", "ttl": 600})
            assert wait_for(lambda: snapshot_stats(c)["writes"] >= 1)
            shutil.rmtree(d)  # the disk went away: decisions go on from memory
            assert wait_for(lambda: snapshot_stats(c)["failures"] >= 3)
            s = snapshot_stats(c)
            assert path + ".tmp: cannot create: No such file or directory" in s["last_error"], s
            assert c.decide("p", {"key": "a"})["score"] == 1
            os.mkdir(d)
            assert wait_for(lambda: snapshot_stats(c)["last_error"] == "")
        vd.stop()
        lines = vd.output().splitlines()
    failed = [l for l in lines if "state snapshot failed" in l]
    assert len(failed) >= 3 and sum(" error " in l for l in failed) == 1, failed
    assert any("state snapshot written again after" in l for l in lines), lines


def refused(args, policies):
    p = subprocess.run([VERDICTD, "--socket", os.path.join(tempfile.gettempdir(), "vd-snap.sock"),
                        "--policies", policies, "--data-dir", DATA] + args,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0, p
    return p


def test_bad_settings_are_refused():
    policies = policy_dir({"p.lua": LABELS})
    path = snapshot_path()
    p = refused(["--state-snapshot", path, "--redis", "127.0.0.1:6379"], policies)
    assert p.returncode == 2 and "--state-snapshot" in p.stderr and "Redis" in p.stderr, p.stderr
    p = refused(["--state-snapshot-interval", "5"], policies)
    assert p.returncode == 2 and "needs --state-snapshot" in p.stderr, p.stderr
    p = refused(["--state-snapshot", path, "--state-snapshot-interval", "-1"], policies)
    assert p.returncode == 2 and "--state-snapshot-interval" in p.stderr, p.stderr
    missing = os.path.join(os.path.dirname(path), "no", "state.snap")
    p = refused(["--state-snapshot", missing], policies)
    assert "cannot start" in p.stderr and missing + ".tmp" in p.stderr, p.stderr
    assert "No such file or directory" in p.stderr, p.stderr
    p = refused(["--state-snapshot", os.path.dirname(path)], policies)  # a directory
    assert "not a regular file" in p.stderr, p.stderr


def test_metrics():
    port = free_port()
    path = snapshot_path()
    args = ["--state-snapshot", path, "--state-snapshot-interval", "1",
            "--metrics", "127.0.0.1:%d" % port]
    with Daemon(policies=policy_dir({"p.lua": LABELS}), args=args) as vd:
        with Client(vd.socket) as c:
            c.decide("p", {"key": "a", "ttl": 60})
            assert wait_for(lambda: snapshot_stats(c)["writes"] >= 1)
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
            text = r.read().decode()
    for family in ("verdict_state_snapshots_total", "verdict_state_snapshot_failures_total 0",
                   "verdict_state_snapshot_last_success_timestamp_seconds",
                   "verdict_state_snapshot_duration_seconds", "verdict_state_snapshot_lock_seconds",
                   "verdict_state_snapshot_entries", "verdict_state_snapshot_bytes",
                   "verdict_state_snapshot_loaded_entries 0",
                   "verdict_state_snapshot_loaded_expired_entries 0",
                   "verdict_state_snapshot_load_failures_total 0"):
        assert "\n" + family in text, (family, text)


def main():
    return run_tests([test_state_survives_sigterm,
                      test_state_survives_sigkill_after_an_interval_snapshot,
                      test_entries_expire_while_down, test_a_damaged_snapshot_is_set_aside,
                      test_write_failures_are_logged_once, test_bad_settings_are_refused,
                      test_metrics])


if __name__ == "__main__":
    sys.exit(main())
