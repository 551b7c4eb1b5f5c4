"""The VM moat profile stands on its own (no database, Redis or S3), and the start-up banner never prints a key the
user supplied (journals keep banners)."""

from __future__ import annotations

from gatekit.config import load_environment
from gatekit.runtime.local import banner
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
    text = banner(env, "sk-supplied-by-the-operator-123", False, "/opt/gatekit/run/litellm.yaml")
    assert "sk-supplied-by-the-operator-123" not in text
    assert "$GATEKIT_SECRET_MASTER_KEY" in text and "not printed" in text


def test_a_generated_laptop_key_is_shown_so_the_gateway_is_usable():
    env = load_environment("local", REPO / "config")
    text = banner(env, "sk-gatekit-generated", True, "/tmp/litellm.yaml")
    assert "sk-gatekit-generated  (generated;" in text
