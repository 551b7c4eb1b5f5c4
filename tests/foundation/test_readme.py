"""The README is what a new user runs: its first commands, and its curl and OpenAI SDK examples, executed for real
against a running gateway."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import REPO, GatewayHandle

README = (REPO / "README.md").read_text()
DEFAULT_URL = "http://127.0.0.1:4000"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_make_up_and_make_test() -> None:
    first = blocks("bash")[0].splitlines()
    assert first[0].startswith("make up") and first[1].startswith("make test")
    assert README.index("make up") < 200


def test_ci_runs_exactly_make_test() -> None:
    commands = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == "make test"
    assert not [c for c in commands if c.startswith(("pip", "uv", "apt", "python", "pytest"))]


def test_readme_python_example_runs(local_gateway: GatewayHandle) -> None:
    (code,) = [b for b in blocks("python") if "OpenAI(" in b]
    assert DEFAULT_URL in code
    code = code.replace(DEFAULT_URL, local_gateway.url)
    env = {**os.environ, "GATEKIT_MASTER_KEY": local_gateway.key}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("[gatekit demo provider]") == 2


def test_readme_curl_example_runs(local_gateway: GatewayHandle) -> None:
    (script,) = [b for b in blocks("bash") if "curl" in b and "chat/completions" in b]
    script = "\n".join(line for line in script.splitlines() if not line.startswith("export GATEKIT_MASTER_KEY"))
    script = script.replace(DEFAULT_URL, local_gateway.url)
    env = {**os.environ, "GATEKIT_MASTER_KEY": local_gateway.key}
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "[gatekit demo provider]" in out.stdout
