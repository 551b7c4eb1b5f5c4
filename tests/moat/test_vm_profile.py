"""The VM moat profile stands on its own (no database, Redis or S3), and the start-up banner never prints a key the
user supplied (journals keep banners)."""

from __future__ import annotations

import os

from gatekit.config import load_environment
from gatekit.runtime.local import banner, ensure_master_key
from tests.moat.conftest import REPO


def test_moat_vm_needs_no_cloud_service():
    env = load_environment("moat-vm", REPO / "config")
    assert env.target == "moat"
    assert env.database.enabled is False and env.cache.enabled is False
    assert env.gateway.caching.backend == "local"
    assert env.gateway.config_sync.source == "file" and env.gateway.config_sync.uri is None
    assert env.observability.otlp_endpoint is None


def test_the_banner_never_prints_a_supplied_key():
    env = load_environment("moat-vm", REPO / "config")
    text = banner(env, None, "/opt/gatekit/run/litellm.yaml")
    assert "$GATEKIT_SECRET_MASTER_KEY" in text and "not printed" in text


def test_a_generated_laptop_key_is_named_by_its_owner_only_file(tmp_path, monkeypatch):
    env = load_environment("local", REPO / "config")
    # setenv first so that monkeypatch restores the variable's absence: ensure_master_key exports the key into
    # os.environ, which would otherwise leak into every later test of the session (the ops CLI reads it as --key).
    monkeypatch.setenv(env.secrets.master_key.env_var, "unset")
    monkeypatch.delenv(env.secrets.master_key.env_var)
    key_file = ensure_master_key(env, tmp_path)
    assert key_file is not None and key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    assert key.startswith("sk-gatekit-") and os.environ[env.secrets.master_key.env_var] == key
    text = banner(env, key_file, "/tmp/litellm.yaml")
    assert key not in text
    assert f"$(cat {key_file})" in text and "owner-only" in text
