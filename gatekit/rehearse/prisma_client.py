"""Generate prisma-client-py's client for LiteLLM's schema in a venv, offline (test machines and the rehearsal).

LiteLLM imports `prisma.Prisma`, which exists only after `prisma generate`. The image does this at build time with
the real Prisma CLI and engines (image/Dockerfile). Here the Prisma CLI comes pinned from tools/prisma-standin
(npm `prisma@5.17.0`, installed without its engine-download scripts) and both engine variables point at the TEST-ONLY
stand-in, so nothing is downloaded.

    python -m gatekit.rehearse.prisma_client [VENV]      (default: the running interpreter's venv)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gatekit.rehearse.services import STANDIN_DIR, ServiceError, prisma_engine_path


def site_packages(venv: Path) -> Path:
    found = sorted((venv / "lib").glob("python3*/site-packages"))
    if not found:
        raise ServiceError(f"no site-packages under {venv}")
    return found[0]


def generate(venv: Path) -> Path:
    """Run `prisma generate` for LiteLLM's schema into `venv`; returns the generated client's schema path."""
    engine = prisma_engine_path()
    cli = STANDIN_DIR / "node_modules" / "prisma" / "build" / "index.js"
    if not cli.exists():
        raise ServiceError(f"{cli} missing: run `make setup-tools` (npm ci in {STANDIN_DIR})")
    packages = site_packages(venv)
    schema = packages / "litellm" / "proxy" / "schema.prisma"
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRISMA_QUERY_ENGINE_BINARY": str(engine),
        "PRISMA_SCHEMA_ENGINE_BINARY": str(engine),  # never run by `generate`; set so the CLI downloads nothing
        "PRISMA_CLI_QUERY_ENGINE_TYPE": "binary",
        "PRISMA_HIDE_UPDATE_MESSAGE": "true",
        "CHECKPOINT_DISABLE": "1",
    }
    proc = subprocess.run(
        ["node", str(cli), "generate", "--schema", str(schema)], env=env, capture_output=True, text=True, check=False
    )
    generated = packages / "prisma" / "schema.prisma"
    if proc.returncode != 0 or not generated.exists():
        raise ServiceError(f"prisma generate failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return generated


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(sys.prefix)
    print(f"generated {generate(target.resolve())}")
