"""Turn a validated environment into what the LiteLLM proxy process needs: a rendered config file and its
environment variables. Missing secrets fail here, loudly, before LiteLLM starts."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

import yaml

from gatekit.config import Environment
from gatekit.render.env import render_environment
from gatekit.render.litellm import render_litellm_config


class MissingSecretsError(RuntimeError):
    def __init__(self, missing: dict[str, str]) -> None:
        self.missing = missing
        listed = ", ".join(f"{var} (from {source})" for var, source in sorted(missing.items()))
        super().__init__(f"the gateway needs these secrets in its environment: {listed}")


def runtime_dir_for(env: Environment) -> Path:
    """$GATEKIT_RUNTIME_DIR (a writable volume in the image), else .gatekit/<env> in the working directory."""
    base = os.environ.get("GATEKIT_RUNTIME_DIR")
    return Path(base) if base else Path.cwd() / ".gatekit" / env.name


def write_litellm_config(env: Environment, runtime_dir: Path) -> Path:
    runtime_dir.mkdir(parents=True, exist_ok=True)
    path = runtime_dir / "litellm.yaml"
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(render_litellm_config(env), sort_keys=False))
    tmp.replace(path)  # atomic: a reader never sees half a file
    return path


def apply_environment(env: Environment, config_path: Path, environ: MutableMapping[str, str] | None = None) -> None:
    """Set the rendered plain variables (explicit process values win) and check every secret is present."""
    environ = os.environ if environ is None else environ
    rendered = render_environment(env)
    for key, value in rendered.plain.items():
        environ.setdefault(key, value)
    environ["CONFIG_FILE_PATH"] = str(config_path)
    if environ is os.environ:  # LiteLLM's URL assembly reads and writes the process environment
        from gatekit.runtime.database import apply_database_url

        apply_database_url(env, config_path.parent)  # the runtime dir: where the database CA is written
    missing = {var: ref.describe() for var, ref in rendered.secrets.items() if not environ.get(var)}
    if missing:
        raise MissingSecretsError(missing)
