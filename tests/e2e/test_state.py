"""Shared state in the shipped signup pipeline: velocity counters, distinct counts, and the
store's figures in stats."""

import sys

from vdtest import Client, Daemon, policy_dir, run_tests, signup_burst

GOOD = {"email": "jane@gmail.com", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "country": "AU", "form_ms": 6000}
daemon = None


def signup(c, ip, username):
    return c.decide("signup", dict(GOOD, ip=ip, username=username))


def test_burst_from_one_network_is_challenged_then_blocked():
    # Several clients at once: the counters are shared by every worker.
    actions = signup_burst([daemon.socket])
    counts = (actions.count("allow"), actions.count("challenge"), actions.count("block"))
    assert len(actions) == 200 and counts == (20, 80, 100), counts
    with Client(daemon.socket) as c:
        r = signup(c, "198.51.100.7", "someone")
        burst = [x for x in r["reasons"] if x["rule"] == "network_burst"][0]
        assert burst["score"] == 10 and "198.51.100.0/24" in burst["detail"]
        other = signup(c, "192.0.2.200", "someone")  # another network is unaffected
        assert not any(x["rule"] == "network_burst" for x in other["reasons"])


def test_usernames_per_ip():
    with Client(daemon.socket) as c:
        rules = []
        for i in range(8):
            r = signup(c, "203.0.113.77", "farm%c" % (97 + i))
            rules.append([x["rule"] for x in r["reasons"]])
        assert "many_usernames_per_ip" not in rules[4] and "many_usernames_per_ip" in rules[7]
        assert "ip_repeat" in rules[7]  # more than five from one address in the hour


def login(c, account, ip, ok):
    return c.decide("login", {"account": account, "ip": ip, "password_ok": ok})


def test_login_bruteforce_then_second_factor():
    with Client(daemon.socket) as c:
        actions = [login(c, "alice", "80.133.10.20", False)["action"] for _ in range(8)]
        assert actions[:5] == ["allow"] * 5 and actions[5:] == ["second_factor"] * 3, actions
        r = login(c, "alice", "80.133.10.20", True)  # the right password, just after an attack
        assert r["action"] == "second_factor"
        assert [x["rule"] for x in r["reasons"]] == ["account_under_attack"]


def test_login_new_country():
    with Client(daemon.socket) as c:
        assert login(c, "bob", "80.133.10.20", True)["action"] == "allow"   # first ever: DE
        assert login(c, "bob", "91.64.1.1", True)["action"] == "allow"      # DE again
        r = login(c, "bob", "45.77.1.2", True)                              # US: new
        reasons = {x["rule"]: x.get("detail") for x in r["reasons"]}
        assert reasons.get("new_country") == "first sign-in from US", r
        assert "impossible_travel" in reasons and r["action"] == "refuse", r  # seconds after DE
        assert login(c, "bob", "45.77.1.2", True)["action"] == "allow"      # now known, no trip


def test_login_credential_stuffing():
    with Client(daemon.socket) as c:
        rs = [login(c, "victim%d" % i, "45.77.9.9", False) for i in range(14)]
        assert rs[9]["action"] == "allow"
        last = [x["rule"] for x in rs[13]["reasons"]]
        assert "many_accounts_from_ip" in last and "failed_logins_from_ip" in last
        assert rs[13]["action"] == "refuse" or rs[13]["score"] >= 10


def test_state_in_stats():
    with Client(daemon.socket) as c:
        state = c.call("stats", [])["state"]
        assert state["entries"] > 0 and state["bytes"] > 0 and state["evictions"] == 0


def test_counters_survive_reload():
    with Client(daemon.socket) as c:
        before = [x for x in signup(c, "198.51.100.9", "x")["reasons"] if x["rule"] == "network_burst"]
        c.call("reload", [])
        after = [x for x in signup(c, "198.51.100.9", "y")["reasons"] if x["rule"] == "network_burst"]
        assert before and after and after[0]["score"] == 10


def main():
    global daemon
    with Daemon(args=["--workers", "2"]) as d:
        daemon = d
        status = run_tests([test_burst_from_one_network_is_challenged_then_blocked,
                            test_usernames_per_ip, test_login_bruteforce_then_second_factor,
                            test_login_new_country, test_login_credential_stuffing,
                            test_state_in_stats,
                            test_counters_survive_reload])
    return status


if __name__ == "__main__":
    sys.exit(main())
