"""List files in the daemon: loaded once for every worker, reloaded when the file changes on
disk (no restart, no policy reload), a bad new version keeps the old one, and the figures in
stats."""

import os
import sys
import time

from vdtest import Client, Daemon, policy_dir, run_tests, wait_for

POLICY = """
local nets = verdict.list("lists/nets.txt", "ip")
local domains = verdict.list("lists/domains.txt", "domain")
rule "listed_network" { score = 5,
  when = function(ev) local entry, value = nets:match(ev.ip); return entry ~= nil, value end }
rule "listed_domain" { score = 5,
  when = function(ev) return domains:has(verdict.email_domain(ev.email)) end }
pipeline "p" { stages = { stage "s" { "listed_network", "listed_domain" } },
  actions = { block = 5 } }
"""
daemon = None
pdir = None


def replace(rel, text):
    path = os.path.join(pdir, rel)
    with open(path + ".new", "w") as f:
        f.write(text)
    os.rename(path + ".new", path)


def reasons(c, ip, email="a@example.org"):
    return {r["rule"]: r.get("detail") for r in c.decide("p", {"ip": ip, "email": email})["reasons"]}


def test_lookups_with_values():
    with Client(daemon.socket) as c:
        assert reasons(c, "198.51.100.7") == {"listed_network": "scanner"}
        assert reasons(c, "198.51.100.8") == {"listed_network": "hosting"}
        assert reasons(c, "192.0.2.1", "x@mail.throwaway.test") == {"listed_domain": None}
        assert reasons(c, "192.0.2.1") == {}


def test_changed_file_is_picked_up_by_every_worker():
    replace("lists/nets.txt", "192.0.2.0/24 office\n")
    # Several connections land on different workers: each must see the new version.
    clients = [Client(daemon.socket) for _ in range(4)]
    try:
        assert wait_for(lambda: all(reasons(c, "192.0.2.1") == {"listed_network": "office"}
                                    for c in clients))
        assert all(reasons(c, "198.51.100.7") == {} for c in clients)
    finally:
        for c in clients:
            c.close()


def test_bad_version_keeps_the_old_one():
    replace("lists/domains.txt", "fine.test\nnot..a.domain\n")
    assert wait_for(lambda: "not..a.domain" in daemon.output())
    out = daemon.output()
    assert "domains.txt:2: not a domain name: 'not..a.domain'" in out, out
    with Client(daemon.socket) as c:
        assert reasons(c, "10.0.0.1", "x@throwaway.test") == {"listed_domain": None}
        assert reasons(c, "10.0.0.1", "x@fine.test") == {}
        lists = {os.path.basename(l["path"]): l for l in c.call("stats", [])["lists"]}
    assert lists["domains.txt"]["errors"] == 1 and lists["domains.txt"]["entries"] == 1
    assert lists["nets.txt"]["reloads"] == 1 and lists["nets.txt"]["kind"] == "ip"


def test_bad_line_at_start_names_the_line():
    bad = policy_dir({"main.lua": POLICY, "lists/nets.txt": "10.0.0.0/8\n10.0.0.300\n",
                      "lists/domains.txt": ""})
    d = Daemon(policies=bad, expect_start=False)
    try:
        assert d.proc.wait(30) != 0
        out = d.output()
        assert "main.lua:2: verdict.list: " in out and \
            "nets.txt:2: not an IP address or CIDR prefix: '10.0.0.300'" in out, out
    finally:
        d.discard()


def main():
    global daemon, pdir
    pdir = policy_dir({"main.lua": POLICY,
                       "lists/nets.txt": "198.51.100.0/24 hosting\n198.51.100.7 scanner\n",
                       "lists/domains.txt": "# disposable\nthrowaway.test\n"})
    with Daemon(policies=pdir, args=["--workers", "2", "--list-check-ms", "50"]) as d:
        daemon = d
        status = run_tests([test_lookups_with_values,
                            test_changed_file_is_picked_up_by_every_worker,
                            test_bad_version_keeps_the_old_one])
    return status or run_tests([test_bad_line_at_start_names_the_line])


if __name__ == "__main__":
    sys.exit(main())
