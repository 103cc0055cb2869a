"""scripts/install-deps.sh on a machine with nothing installed (dpkg-query answers "not
installed" for every package; --dry-run prints the apt-get commands instead of running
them): running the server needs no browsers or test tools, --test adds them, and apt waits
for a lock held by another apt instead of failing.

    /usr/bin/python3 -m pytest -v tests/integration/test_setup_scripts.py
"""

import os
import subprocess

from server_process import ROOT

SCRIPT = os.path.join(ROOT, "scripts", "install-deps.sh")
TEST_ONLY = {"chromium", "firefox-esr", "python3-pytest", "python3-websockets", "gstreamer1.0-plugins-bad",
             "nftables"}


def planned_install(tmp_path, *flags):
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    dpkg_query = stubs / "dpkg-query"
    dpkg_query.write_text("#!/bin/sh\nexit 1\n")       # a fresh machine: nothing installed
    dpkg_query.chmod(0o755)
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}")
    out = subprocess.run(["bash", SCRIPT, "--dry-run", *flags], capture_output=True, text=True, env=env,
                         timeout=60, check=True).stdout
    commands = [line.split() for line in out.splitlines() if "apt-get" in line]
    install = next(c for c in commands if "install" in c)
    return commands, set(install[install.index("--no-install-recommends") + 1:])


def test_running_the_server_installs_no_test_tools(tmp_path):
    commands, packages = planned_install(tmp_path)
    assert {"meson", "libwebsockets-dev", "libjansson-dev", "libsqlite3-dev"} <= packages, packages
    assert not packages & TEST_ONLY, packages & TEST_ONLY
    with open(os.path.join(ROOT, "scripts", "run.sh")) as f:
        calls = [line for line in f if line.startswith("bash scripts/install-deps.sh")]
    assert calls == ["bash scripts/install-deps.sh\n"], calls   # run.sh asks for no test tools


def test_tests_get_their_tools(tmp_path):
    _, packages = planned_install(tmp_path, "--test")
    assert TEST_ONLY <= packages, TEST_ONLY - packages


def test_apt_waits_for_the_lock(tmp_path):
    commands, _ = planned_install(tmp_path)
    assert commands and all("DPkg::Lock::Timeout=600" in c for c in commands), commands
