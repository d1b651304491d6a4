"""A trust-and-safety scenario in event time, through the executor (verdict replay of plain
events): fourteen days of ordinary signups from one network, with a daily and weekly rhythm,
then a wave of signups from that network that no per-address or per-/24 limit sees. The
shipped signup pipeline must flag the wave within ten minutes of its start, and none of the
ordinary days' peaks; the same for an account's failed logins (its own surge)."""

import json
import os
import subprocess
import sys
import tempfile

from vdtest import DATA, SHIPPED, VERDICT, run_tests

MONDAY_14H = 1773669600  # 2026-03-16T14:00:00Z, a Monday
DAY = 86400
NAMES = ["amelie", "bruno", "carla", "dmitri", "elena", "farid", "greta", "hugo", "ines",
         "jonas", "kaori", "lucas", "maya", "noah", "olga", "pablo", "quinn", "rosa"]


DOMAINS = ["gmail.com", "web.de", "gmx.de", "outlook.com", "yahoo.com", "t-online.de"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0 Safari/537.36",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
          "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0 Mobile Safari/537.36"]


def signup(i, t):
    """People: varied names (no digits), providers, browsers and typing speeds, each from an
    address of its own in the network."""
    a, b = NAMES[i % len(NAMES)], NAMES[(i // len(NAMES)) % len(NAMES)]
    name = (a + "." + b) if i % 3 == 0 else (a.capitalize() + b) if i % 3 == 1 else a + "_" + b
    return {"time": t, "ip": "10.%d.%d.%d" % (i % 200, (i // 200) % 250, i % 250 + 1),
            "asn": 64500, "email": name.lower() + "@" + DOMAINS[i % len(DOMAINS)],
            "username": name, "country": "DE", "user_agent": AGENTS[(i // 7) % len(AGENTS)],
            "form_ms": 4000 + (i * 2654435761) % 40000}


def ordinary_days(days):
    """About 30 signups an hour from 8 to 20 UTC, 6 at night, half at weekends; ends at the
    Monday 14:00 of the wave."""
    events, seed, i = [], 7, 0
    for t in range(MONDAY_14H - days * DAY, MONDAY_14H, 60):
        hour = (t % DAY) // 3600
        weekday = ((t // DAY) + 3) % 7  # 0 Monday
        rate = 30 if 8 <= hour < 20 else 6
        if weekday >= 5:
            rate /= 2
        seed = (seed * 1103515245 + 12345) % 2147483648
        if seed % 60 < rate:
            i += 1
            events.append(signup(i, t))
    return events, i


def replay(events, pipeline):
    d = tempfile.mkdtemp(prefix="vd-anomaly-")
    path = os.path.join(d, "events.jsonl")
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
    p = subprocess.run([VERDICT, "replay", "--policies", SHIPPED, "--pipeline", pipeline,
                        "--data-dir", DATA, "--emit", "all", path],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    return [json.loads(line) for line in p.stdout.splitlines()]


def test_a_network_wave_flagged_and_ordinary_peaks_not():
    events, n = ordinary_days(14)
    wave_start = MONDAY_14H
    wave = [signup(n + k, wave_start + k * 4) for k in range(1, 151)]  # 150 in ten minutes
    out = replay(events + wave, "signup")
    assert len(out) == len(events) + len(wave)
    ordinary = out[:len(events)]
    flagged = [d for d in ordinary if d["after"]["action"] != "allow"]
    assert not flagged, flagged[:3]  # fourteen days of peaks and troughs: no alarm
    first = next(d for d in out[len(events):] if d["after"]["action"] != "allow")
    assert first["time_ms"] // 1000 - wave_start <= 600, first
    late = out[-50:]  # the wave's end: still flagged (the label keeps it)
    assert all(d["after"]["action"] == "challenge" for d in late), late[:3]


def login(account, t, ok, i):
    return {"time": t, "account": account, "ip": "10.9.%d.%d" % (i % 250, i % 200 + 1),
            "password_ok": ok, "country": "DE",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"}


def test_an_account_failed_logins_against_its_own_history():
    """An account that mistypes its password now and then (a few a day, at working hours),
    then five wrong passwords in ten minutes: under the fixed limit (more than five in the
    hour), but far above the account's own history."""
    events, seed, i = [], 11, 0
    for t in range(MONDAY_14H - 14 * DAY, MONDAY_14H, 300):
        hour = (t % DAY) // 3600
        seed = (seed * 1103515245 + 12345) % 2147483648
        if 8 <= hour < 19 and seed % 12 == 0:
            i += 1
            events.append(login("acct-7", t, seed % 5 == 0, i))  # a wrong one now and then
    burst = [login("acct-7", MONDAY_14H + k * 120, False, i + k) for k in range(1, 6)]
    out = replay(events + burst, "login")
    ordinary = out[:len(events)]
    surged = [d for d in ordinary if d["after"]["score"] >= 4]
    assert not surged, surged[:3]
    first = next(d for d in out[len(events):] if d["after"]["score"] >= 4)
    assert first["time_ms"] // 1000 - MONDAY_14H <= 600, first
    assert out[-1]["after"]["score"] < 10, out[-1]  # the fixed limit did not speak: five only


if __name__ == "__main__":
    sys.exit(run_tests([test_a_network_wave_flagged_and_ordinary_peaks_not,
                        test_an_account_failed_logins_against_its_own_history]))
