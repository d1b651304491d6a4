"""Every model and database a shipped plugin loads is checked at load: a bad file is refused
with a message naming the file and the problem, by `verdictd --check` and at start, and never
crashes the daemon (the gbdt model with num_feature 0 used to pass --check and segfault the
first decision). A database overwritten in place while loaded keeps serving."""

import copy
import json
import os
import shutil
import struct
import subprocess
import sys

from vdtest import DATA, VERDICTD, Client, Daemon, policy_dir, run_tests

PIPELINE = 'pipeline "p" { stages = { plugin "%s" { %s } }, actions = { review = 0.5 } }\n'


def check(plugin, config, files, data_dir=None):
    """Runs verdictd --check on a policy with one plugin stage; returns (exit status, output).
    Model files outside the policy directory must be in data_dir (the daemon's --data-dir)."""
    d = policy_dir(dict(files, **{"p.lua": PIPELINE % (plugin, config)}))
    extra = ["--data-dir", data_dir] if data_dir else []
    p = subprocess.run([VERDICTD, "--check", "--policies", d] + extra, capture_output=True,
                       timeout=120)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace"), d


def assert_refused(plugin, config, files, name, *needles):
    code, out, _ = check(plugin, config, files)
    assert code == 1, "expected a refusal (exit 1), got %d:\n%s" % (code, out)
    for n in (name,) + needles:
        assert n in out, "%r not in %r" % (n, out)


# ---- gbdt: XGBoost JSON models ----

TREE = {"left_children": [1, -1, -1], "right_children": [2, -1, -1],
        "split_indices": [1, 0, 0], "split_conditions": [0.5, -1.0, 1.0],
        "default_left": [1, 0, 0], "split_type": [0, 0, 0],
        "tree_param": {"num_nodes": "3", "num_feature": "2", "num_deleted": "0"}}


def gbdt(num_feature="2", trees=None, names=("a", "b"), base_score="5E-1", info=None):
    trees = trees if trees is not None else [copy.deepcopy(TREE)]
    param = {"base_score": base_score, "num_class": "0", "num_target": "1"}
    if num_feature is not None:
        param["num_feature"] = num_feature
    return json.dumps({"version": [1, 7, 4], "learner": {
        "objective": {"name": "binary:logistic"}, "feature_names": list(names),
        "learner_model_param": param,
        "gradient_booster": {"name": "gbtree", "model": {
            "trees": trees, "tree_info": info if info is not None else [0] * len(trees)}}}})


def tree(**changes):
    t = copy.deepcopy(TREE)
    t.update(changes)
    return t


def chain(depth):
    """A tree whose splits go down one side for depth levels."""
    n = 2 * depth + 1
    left = [-1] * n
    right = [-1] * n
    for k in range(depth):  # node 2k splits into 2k+1 (a leaf) and 2k+2
        left[2 * k], right[2 * k] = 2 * k + 1, 2 * k + 2
    return tree(left_children=left, right_children=right, split_indices=[0] * n,
                split_conditions=[0.5] * n, default_left=[0] * n, split_type=[0] * n,
                tree_param={"num_nodes": str(n)})


GBDT_BAD = [
    (gbdt(num_feature="0", names=()), "num_feature is 0"),
    (gbdt(num_feature=None, names=()), "no learner_model_param.num_feature"),
    (gbdt(num_feature="2.5"), "num_feature is 2.5"),
    (gbdt(num_feature="1e9"), "num_feature is 1e+09"),
    (gbdt(trees=[tree(split_indices=[2, 0, 0])]), "node 0: a split on a feature index at or past"),
    (gbdt(trees=[tree(left_children=[7, -1, -1])]), "node 0: a child index out of range"),
    (gbdt(trees=[tree(left_children=[1, 0, -1], right_children=[2, 2, -1])]),
     "node 1: a child index out of range"),  # a loop back to the root
    (gbdt(trees=[tree(left_children=[1, -1, -1], right_children=[-1, -1, -1])]),
     "child index out of range"),  # one child only
    (gbdt(trees=[tree(left_children=[2, -1, -1], right_children=[2, -1, -1])]),
     "both children are the same node"),
    (gbdt(trees=[tree(left_children=[1, 2, -1, -1], right_children=[2, 3, -1, -1],
                      split_indices=[0] * 4, split_conditions=[0.5] * 4, default_left=[0] * 4,
                      split_type=[0] * 4, tree_param={"num_nodes": "4"})]),
     "already the child of another node"),
    (gbdt(trees=[chain(300)]), "deeper than 256 levels"),
    (gbdt(trees=[tree(split_conditions=[0.5, 1e39, 1.0])]), "node 1: a threshold or leaf value"),
    (gbdt(base_score="nan"), "base_score is not a finite number"),
    (gbdt(trees=[tree(tree_param={"num_nodes": "5"})]), "num_nodes is 5, but it has 3 nodes"),
    (gbdt(trees=[tree(right_children=[2, -1])]), "malformed node arrays"),
    (gbdt(trees=[tree(split_indices=[4294967297, 0, 0])]), "malformed node arrays"),
    (gbdt(info=[0, 0]), "tree_info has 2 entries for 1 trees"),
    ("", "not a readable JSON model"),
    ("{\"learner\": 5}", "not an XGBoost JSON model"),
]


def test_gbdt_bad_models_are_refused():
    for text, needle in GBDT_BAD:
        assert_refused("gbdt", 'model = "m.json"', {"m.json": text}, "m.json", needle)


def test_gbdt_without_num_feature_is_refused():
    """The finding: with num_feature 0 (or none) and inputs given, such a model passed --check
    and the first decision segfaulted on a split feature index past the (empty) row."""
    far = [tree(split_indices=[40000000, 0, 0])]
    for num_feature in ("0", None):
        model = gbdt(num_feature=num_feature, names=(), trees=far)
        assert_refused("gbdt", 'model = "m.json", inputs = {}, weight = 1', {"m.json": model},
                       "m.json", "num_feature")


def test_gbdt_good_model_serves():
    code, out, d = check("gbdt", 'model = "m.json", weight = 1', {"m.json": gbdt()})
    assert code == 0, out
    with Daemon(policies=d) as vd, Client(vd.socket) as c:
        assert abs(c.decide("p", {"a": 0, "b": 0})["score"] - 0.2689) < 1e-3  # b < 0.5: left
        assert abs(c.decide("p", {"b": 2})["score"] - 0.7311) < 1e-3
        assert abs(c.decide("p", {})["score"] - 0.2689) < 1e-3  # missing: default left
    # A deep but allowed tree and a pruned (unreached) node load as well.
    assert check("gbdt", 'model = "m.json"', {"m.json": gbdt(trees=[chain(200)])})[0] == 0
    pruned = tree(left_children=[1, -1, -1, -1], right_children=[2, -1, -1, -1],
                  split_indices=[0] * 4, split_conditions=[0.5, 1, 2, 3], default_left=[0] * 4,
                  split_type=[0] * 4, tree_param={"num_nodes": "4"})
    assert check("gbdt", 'model = "m.json"', {"m.json": gbdt(trees=[pruned])})[0] == 0


# ---- textclf: the binary model of verdict_train ----

def textclf(bits=20, bias=0.25, weights=((5, 1.5), (9, -2.0)), meta=b"{}", version=1,
            count=None, trailing=b""):
    body = b"VDTXTCLF" + struct.pack("<IIQd", version, bits, 0, bias)
    body += struct.pack("<I", len(weights) if count is None else count)
    for b, w in weights:
        body += struct.pack("<Id", b, w)
    return body + struct.pack("<I", len(meta)) + meta + trailing


TEXTCLF_BAD = [
    (b"", "bad magic"),
    (b"VDTXTCLF" + b"\0" * 10, "bad magic"),
    (textclf(version=2), "unsupported textclf format version"),
    (textclf(bits=7), "bucket bits out of range"),
    (textclf(bits=25), "bucket bits out of range"),
    (textclf(bias=float("nan")), "the bias is not a finite number"),
    (textclf(weights=((5, float("inf")),)), "a weight is not a finite number"),
    (textclf(weights=((9, 1.0), (5, 1.0))), "weights out of order or out of range"),
    (textclf(bits=8, weights=((256, 1.0),)), "weights out of order or out of range"),
    (textclf(count=1000000), "truncated weights"),
    (textclf(meta=b"{}")[:-1], "truncated metadata"),
    (textclf(trailing=b"x"), "bytes after the metadata"),
]


def test_textclf_bad_models_are_refused():
    for blob, needle in TEXTCLF_BAD:
        d = policy_dir({})
        with open(os.path.join(d, "m.bin"), "wb") as f:
            f.write(blob)
        code, out, _ = check("textclf", 'model = "%s/m.bin"' % d, {}, d)
        assert code == 1, "expected a refusal, got %d:\n%s" % (code, out)
        assert "m.bin" in out and needle in out, "%r not in %r" % (needle, out)


def test_textclf_good_model_serves():
    d = policy_dir({})
    with open(os.path.join(d, "m.bin"), "wb") as f:
        f.write(textclf())
    code, out, pol = check("textclf", 'model = "%s/m.bin", weight = 1' % d, {}, d)
    assert code == 0, out
    with Daemon(policies=pol, args=["--data-dir", d]) as vd, Client(vd.socket) as c:
        r = c.decide("p", {"raw": "Subject: hi\n\nhello there\n"})
        assert 0 < r["score"] < 1 and r["features"]["textclf_model"].startswith("m.bin@"), r


# ---- geoip: MMDB databases (libmaxminddb checks their structure) ----

def test_geoip_database_overwritten_in_place_keeps_serving():
    """The database is read from a private copy: cp over the installed file (here: a
    truncated one) cannot make a lookup fault."""
    d = policy_dir({})
    path = os.path.join(d, "country.mmdb")
    shutil.copyfile(os.path.join(DATA, "geoip", "country.mmdb"), path)
    pol = policy_dir({"p.lua": PIPELINE % ("geoip", 'country_db = "%s"' % path)})
    with Daemon(policies=pol, args=["--data-dir", d]) as vd, Client(vd.socket) as c:
        before = c.decide("p", {"ip": "8.8.8.8"})["features"]["geo_country"]
        with open(path, "r+b") as f:  # in place: the same inode, now short
            head = f.read(4096)
            f.seek(0)
            f.truncate(0)
            f.write(head)
        for i in range(200):
            r = c.decide("p", {"ip": "%d.%d.7.1" % (i + 1, (i * 37) % 256)})
        assert c.decide("p", {"ip": "8.8.8.8"})["features"]["geo_country"] == before
        try:
            c.call("reload", [])
            raise AssertionError("a reload of the truncated database was accepted")
        except Exception as e:
            assert "country.mmdb" in str(e) and "metadata" in str(e), e
        assert c.call("ping", []) == "pong"


def test_geoip_corrupt_search_tree_never_crashes():
    """Metadata intact, search tree and data scrambled: lookups fail or find garbage (which
    libmaxminddb bounds-checks), the daemon serves."""
    d = policy_dir({})
    path = os.path.join(d, "country.mmdb")
    with open(os.path.join(DATA, "geoip", "country.mmdb"), "rb") as f:
        data = bytearray(f.read())
    x = 2463534242  # xorshift32: the same scramble every run
    for i in range(0, len(data) - 200000, 3):  # the metadata, at the end, stays readable
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        data[i] = x & 0xFF
    with open(path, "wb") as f:
        f.write(data)
    code, out, pol = check("geoip", 'country_db = "%s"' % path, {}, d)
    if code != 0:  # refused at load: fine too, as long as it says why
        assert code == 1 and "country.mmdb" in out, out
        return
    with Daemon(policies=pol, args=["--data-dir", d]) as vd, Client(vd.socket) as c:
        for i in range(500):
            c.decide("p", {"ip": "%d.%d.%d.1" % (i % 223 + 1, i * 7 % 256, i * 13 % 256)})
            c.decide("p", {"ip": "2001:db8:%x::1" % i})
        assert c.call("ping", []) == "pong"


def main():
    return run_tests([test_gbdt_bad_models_are_refused, test_gbdt_without_num_feature_is_refused,
                      test_gbdt_good_model_serves,
                      test_textclf_bad_models_are_refused, test_textclf_good_model_serves,
                      test_geoip_database_overwritten_in_place_keeps_serving,
                      test_geoip_corrupt_search_tree_never_crashes])


if __name__ == "__main__":
    sys.exit(main())
