"""Launch gatekit exactly as a database-on deployment composes it, without a database.

With `database.enabled` gatekit installs no master-key guard (LiteLLM's virtual keys need the database), so whatever
the exposure guard lets through meets LiteLLM's own authentication only. Prisma engines cannot be downloaded here, so
LiteLLM itself runs DB-less (its config is rendered from the DB-less environment); gatekit's middleware stack is
built from the same environment with `database.enabled: true`. The real-database version of this is the rehearsal.

Usage: python -m tests.security.db_on_gateway --port P [--set PATH=VALUE ...]"""

from __future__ import annotations

import argparse

from gatekit.config import default_config_dir, load_environment
from gatekit.runtime.local import start_demo_provider, stop
from gatekit.runtime.prepare import apply_environment, runtime_dir_for, write_litellm_config
from gatekit.runtime.server import load_proxy_app, run_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    env = load_environment("local", default_config_dir(), [*args.overrides, f"gateway.port={args.port}"])
    config_path = write_litellm_config(env, runtime_dir_for(env))
    apply_environment(env, config_path)
    db_on = env.model_copy(update={"database": env.database.model_copy(update={"enabled": True})})
    demo = start_demo_provider(env.gateway.demo_provider)
    try:
        run_app(load_proxy_app(), db_on, port=args.port)
    finally:
        stop(demo)


if __name__ == "__main__":
    main()
