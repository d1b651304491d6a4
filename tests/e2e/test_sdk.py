"""The SDK as a plugin author meets it: install into a prefix, build the example plugin out of
tree with find_package(Verdict) and with pkg-config, and load both in verdictd."""

import os
import shutil
import subprocess
import sys
import tempfile

from vdtest import SOURCE, Client, Daemon, policy_dir, run_tests

BUILD = os.environ.get("VD_BUILD_DIR", "build-test")


def sh(*cmd, env=None):
    p = subprocess.run(list(cmd), capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(cmd), p.stdout, p.stderr)
    return p.stdout


def test_install_build_and_load_the_example():
    tmp = tempfile.mkdtemp(prefix="vd-e2e-sdk-")
    try:
        prefix = os.path.join(tmp, "prefix")
        sh("cmake", "--install", BUILD, "--prefix", prefix)
        for f in ("include/verdict/plugin.h", "lib/cmake/Verdict/VerdictConfig.cmake",
                  "lib/cmake/Verdict/VerdictConfigVersion.cmake",
                  "lib/pkgconfig/verdict-plugin.pc"):
            assert os.path.exists(os.path.join(prefix, f)), f
        example = os.path.join(SOURCE, "examples", "plugin-hello")
        out = os.path.join(tmp, "hello-build")
        sh("cmake", "-S", example, "-B", out, "-DCMAKE_PREFIX_PATH=" + prefix)
        sh("cmake", "--build", out)
        assert os.path.exists(os.path.join(out, "hello.so"))
        # The same plugin through pkg-config, as a Makefile-based project would build it.
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
        cflags = sh("pkg-config", "--cflags", "verdict-plugin", env=env).split()
        other = os.path.join(tmp, "hello_pc.so")
        sh("cc", *cflags, "-shared", "-Wall", "-Werror", "-o", other,
           os.path.join(example, "hello.c"))
        nm = sh("nm", "-D", "--defined-only", other)
        assert "verdict_plugin_entry" in nm and "hello_score" not in nm  # only the entry
        pol = policy_dir({"p.lua": """
pipeline "signup" { stages = {
  plugin "hello" { field = "username", max_length = 5, score = 3 },
  plugin "%s" { name = "hello_again", field = "email", max_length = 100 } } }
""" % other})
        with Daemon(policies=pol, args=["--plugin-dir", out]) as vd, Client(vd.socket) as c:
            r = c.decide("signup", {"username": "averylongname", "email": "a@b.c"})
            assert r["reasons"] == [{"rule": "too_long", "stage": "hello", "score": 3.0,
                                     "detail": "13 characters"}], r
            assert r["features"]["hello_length"] == 5  # the second stage wrote it last
            assert c.decide("signup", {"username": "bob"})["score"] == 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    return run_tests([test_install_build_and_load_the_example])


if __name__ == "__main__":
    sys.exit(main())
