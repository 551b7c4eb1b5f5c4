"""The bundle installs and the gateway serves in a network namespace with only loopback, and a trace of every
socket connect shows no destination other than loopback."""

from __future__ import annotations

import re
import subprocess

import pytest
from packaging.markers import Marker

from tests.moat.conftest import RUNBOOK
from tests.moat.strace_connects import connects, non_loopback

# One worker builds, installs and runs the bundle once (pytest -n N --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500), pytest.mark.xdist_group("moat-bundle")]


def test_runbook_install_drill_ran_every_block_offline(moat_install):
    """The runbook's executed blocks ran (transfer check, install, verification) with no network connection."""
    from tests.ops.runbook_blocks import blocks

    executed = [b for b in blocks(RUNBOOK) if b.skip_reason is None]
    ran = [line for line in moat_install.log.splitlines() if line.startswith("::drill ")]
    assert len(ran) == len(executed) >= 4
    assert "verifying MANIFEST.sig against the trusted key (openssl)" in moat_install.log
    assert "signature OK: signed by SHA256:" in moat_install.log
    # Every step runs as written (set -e): step 3 starts the gateway (env moat-vm) and waits for readiness; the
    # verification refuses a wrong key and finds no master key in the log; the last block drains it with SIGTERM.
    start = next(b for b in blocks(RUNBOOK) if "up --env moat-vm" in b.code)  # step 3 (the upgrade restarts later)
    assert start.skip_reason is None
    # Only the upgrade/rollback blocks, which need a previous installation, are not drilled on a fresh VM.
    skipped = [b for b in blocks(RUNBOOK) if b.skip_reason]
    assert all("previous installation" in b.skip_reason for b in skipped), skipped
    # The trace is live (it saw the readiness polls reach the gateway on loopback) and shows nothing else: no DNS
    # lookup of the model servers' names (LiteLLM's start-up model-info discovery is switched off offline).
    found = connects(moat_install.trace)
    assert any(d.family == "AF_INET" and d.address == "127.0.0.1" and d.port == 4000 for d in found)
    assert non_loopback(moat_install.trace) == []


def test_runbook_gatekit_calls_match_the_cli():
    from gatekit.cli import cli
    from tests.ops.runbook_blocks import REQUIRED_SECTIONS, blocks, check_call, gatekit_calls

    text = RUNBOOK.read_text()
    assert all(f"\n{section}" in text for section in REQUIRED_SECTIONS)
    calls = [
        call
        for b in blocks(RUNBOOK)
        for call in gatekit_calls(b.code.replace('"$GATEKIT_PREFIX/bin/gatekit"', "gatekit"))
    ]
    assert len(calls) >= 4
    assert [p for call in calls if (p := check_call(cli, call))] == []


def test_installed_environment_is_exactly_the_lock(moat_bundle, moat_install):
    python = moat_install.prefix / "venv" / "bin" / "python"
    freeze = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True)
    installed = {
        m[1].lower().replace("_", "-"): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)$", freeze.stdout, re.M)
    }
    locked = {
        m[1].lower(): m[2]
        for m in re.finditer(
            r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)(?: ; (.*?))? \\$",
            (moat_bundle.path / "requirements" / "runtime.txt").read_text(),
            re.M,
        )
        if not m[3] or Marker(m[3]).evaluate()
    }
    extra = set(installed) - set(locked) - {"gatekit", "pip", "setuptools"}
    assert not extra, f"installed but not locked: {sorted(extra)}"
    assert {name: installed.get(name) for name in locked} == locked


def test_launcher_points_litellm_at_the_shipped_encodings(moat_install):
    env_file = (moat_install.prefix / "etc" / "gatekit.env").read_text()
    assert f"CUSTOM_TIKTOKEN_CACHE_DIR={moat_install.prefix}/tiktoken" in env_file
    assert "LITELLM_LOCAL_MODEL_COST_MAP=True" in env_file
    # In a namespace with no network, tiktoken loads every shipped encoding from that directory.
    names = ("cl100k_base", "o200k_base", "p50k_base")
    probe = f"import tiktoken; print([len(tiktoken.get_encoding(n).encode('hi moat')) for n in {names!r}])"
    proc = subprocess.run(
        ["unshare", "--net", str(moat_install.prefix / "venv" / "bin" / "python"), "-c", probe],
        env={"TIKTOKEN_CACHE_DIR": str(moat_install.prefix / "tiktoken"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("[")


def test_gateway_serves_a_chat_completion_with_no_network(moat_gateway):
    outcome = moat_gateway.outcome
    assert outcome.get("status") == 200, moat_gateway.log[-4000:]
    message = outcome["body"]["choices"][0]["message"]["content"]
    assert "gatekit demo provider" in message and "hello from the moat" in message
    assert outcome["exit_code"] == 0, moat_gateway.log[-4000:]


def test_gateway_connects_to_nothing_but_loopback(moat_gateway):
    assert moat_gateway.outcome["trace_complete"], "strace did not see the gateway exit"
    found = connects(moat_gateway.trace)
    # The trace is live: it saw the gateway reach the demo provider on loopback.
    assert any(d.family == "AF_INET" and d.address == "127.0.0.1" and d.port == 4010 for d in found)
    assert non_loopback(moat_gateway.trace) == []
