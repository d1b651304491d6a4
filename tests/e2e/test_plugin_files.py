"""Plugins run from private copies named by their content: overwriting a loaded .so (cp over
it) or rebuilding it in place cannot crash the daemon or change the code it runs; a reload
loads the new build, and the old copy stays mapped until the calls into it have finished."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from vdtest import SOURCE, Client, Daemon, policy_dir, run_tests, wait_for

PLUGINS = os.environ.get("VD_TEST_PLUGINS", "build-test/test-plugins")
CC = os.environ.get("VD_CC", "cc")

POLICY = """
pipeline "p" { stages = { plugin "%s" { %s } }, actions = { review = 5 } }
"""


def so(name):
    return os.path.join(PLUGINS, name + ".so")


def compile_plugin(source, out, *flags):
    """Builds a test plugin as an out-of-tree plugin is built, writing out in place."""
    subprocess.run([CC, "-shared", "-fPIC", "-fvisibility=hidden", "-pthread",
                    "-I", os.path.join(SOURCE, "sdk", "include"),
                    os.path.join(SOURCE, "tests", "plugins", source), "-o", out] + list(flags),
                   check=True, timeout=120)


def build_of(c):
    return [r["detail"] for r in c.decide("p", {})["reasons"] if r["rule"] == "build"][0]


def contents(log):
    return re.findall(r"plugin 'build' build \d loaded from .*: content xxh3-128 (\w+)", log)


def installed_dir():
    d = tempfile.mkdtemp(prefix="vd-e2e-so-")
    return d


def overwrite(src, dst):
    """Copies src over dst in place (same inode), as cp does."""
    ino = os.stat(dst).st_ino
    with open(src, "rb") as f, open(dst, "r+b") as g:
        g.truncate(0)
        g.write(f.read())
    assert os.stat(dst).st_ino == ino


def test_overwritten_plugin_keeps_serving_then_reload_loads_it():
    d = installed_dir()
    try:
        path = os.path.join(d, "build.so")
        shutil.copyfile(so("build_1"), path)
        pol = policy_dir({"p.lua": POLICY % (path, "")})
        with Daemon(policies=pol) as vd, Client(vd.socket) as c:
            assert build_of(c) == "build 1"
            overwrite(so("build_2"), path)
            for _ in range(50):  # the old code, still mapped from the private copy
                assert build_of(c) == "build 1"
            assert c.call("ping", []) == "pong"
            c.call("reload", [])
            assert build_of(c) == "build 2"
            stages = c.call("pipelines", [])[0]["stages"]
            plugin = stages[0]["plugin"]
            assert plugin["version"] == "build 2" and plugin["file"] == path, stages
            c.call("reload", [])  # the same bytes again: the same copy, nothing loaded
            assert build_of(c) == "build 2"
            first, second = contents(vd.output())
            assert first != second
            assert wait_for(lambda: "plugin 'build' unloaded: no stage uses content %s" % first
                            in vd.output()), vd.output()
            assert len(contents(vd.output())) == 2, vd.output()
    finally:
        shutil.rmtree(d, True)


def test_rebuilt_plugin_keeps_serving_then_reload_loads_it():
    d = installed_dir()
    try:
        path = os.path.join(d, "build.so")
        compile_plugin("build_plugin.c", path, "-DBUILD_NUMBER=3")
        pol = policy_dir({"p.lua": POLICY % (path, "")})
        with Daemon(policies=pol) as vd, Client(vd.socket) as c:
            assert build_of(c) == "build 3"
            compile_plugin("build_plugin.c", path, "-DBUILD_NUMBER=4")
            assert build_of(c) == "build 3"
            c.call("reload", [])
            assert build_of(c) == "build 4"
    finally:
        shutil.rmtree(d, True)


def test_calls_pending_in_the_old_build_finish():
    """Requests waiting in the old build's own thread when a reload loads a new build finish
    there; the old copy is unloaded after them."""
    d = installed_dir()
    try:
        path, other = os.path.join(d, "async.so"), os.path.join(d, "async-other.so")
        compile_plugin("async_plugin.c", path, "-O0")
        compile_plugin("async_plugin.c", other, "-O1")  # the same plugin, other bytes
        pol = policy_dir({"p.lua": POLICY % (path, "delay_ms = 300, score = 7")})
        with Daemon(policies=pol, args=["--workers", "2"]) as vd, Client(vd.socket) as c:
            ids = [c.send("decide", ["p", {"ip": "192.0.2.1"}]) for _ in range(20)]
            time.sleep(0.05)
            overwrite(other, path)
            with Client(vd.socket) as admin:
                admin.call("reload", [])
            for _ in ids:
                msgid, err, res = c.recv()
                assert err is None and res["score"] == 7, (err, res)
            assert c.decide("p", {"ip": "192.0.2.1"})["score"] == 7
            log = vd.output()
            loaded = re.findall(r"plugin 'async' 1.0 loaded from .*: content xxh3-128 (\w+)", log)
            assert len(loaded) == 2 and loaded[0] != loaded[1], log
            assert wait_for(lambda: "plugin 'async' unloaded: no stage uses content %s"
                            % loaded[0] in vd.output()), vd.output()
    finally:
        shutil.rmtree(d, True)


def test_errors_name_the_installed_file():
    d = installed_dir()
    try:
        path = os.path.join(d, "notelf.so")
        with open(path, "w") as f:
            f.write("not a shared object\n")
        pol = policy_dir({"p.lua": POLICY % (path, "")})
        vd = Daemon(policies=pol, expect_start=False)
        vd.proc.wait(60)
        out = vd.output()
        vd.discard()
        assert vd.proc.returncode != 0
        assert "%s: cannot load: " % path in out and "/proc/self/fd" not in out, out
    finally:
        shutil.rmtree(d, True)


def test_plugin_that_needs_origin_loads_in_place():
    """A plugin that finds a library of its own through $ORIGIN cannot be loaded from a
    private copy (its origin is then /proc/self/fd): it is loaded in place, with a warning."""
    d = installed_dir()
    try:
        with open(os.path.join(d, "dep.c"), "w") as f:
            f.write("int vd_test_dep(void) { return 1; }\n")
        subprocess.run([CC, "-shared", "-fPIC", os.path.join(d, "dep.c"), "-o",
                        os.path.join(d, "libvddep.so")], check=True, timeout=120)
        path = os.path.join(d, "build.so")
        compile_plugin("build_plugin.c", path, "-DBUILD_NUMBER=5", "-L", d,
                       "-Wl,--no-as-needed", "-lvddep", "-Wl,-rpath,$ORIGIN")
        pol = policy_dir({"p.lua": POLICY % (path, "")})
        with Daemon(policies=pol) as vd, Client(vd.socket) as c:
            assert build_of(c) == "build 5"
            out = vd.output()
            assert "%s: loaded in place, not from a private copy (libvddep.so" % path in out, out
            assert "content xxh3-128 " in out and ", in place" in out, out
    finally:
        shutil.rmtree(d, True)


def main():
    return run_tests([test_overwritten_plugin_keeps_serving_then_reload_loads_it,
                      test_rebuilt_plugin_keeps_serving_then_reload_loads_it,
                      test_calls_pending_in_the_old_build_finish,
                      test_errors_name_the_installed_file,
                      test_plugin_that_needs_origin_loads_in_place])


if __name__ == "__main__":
    sys.exit(main())
