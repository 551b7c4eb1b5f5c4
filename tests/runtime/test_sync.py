"""Config documents, sources and the syncer in-process; the router update against a real LiteLLM Router."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gatekit.config.gateway import ConfigSync
from gatekit.render.sync_document import config_version
from gatekit.runtime.sources import FileSource, GcsSource, S3Source, SourceError, SourceUnavailableError, open_source
from gatekit.runtime.state import RuntimeState
from gatekit.runtime.sync import ConfigSyncer, InvalidDocumentError, parse_document
from tests.conftest import REPO
from tests.runtime.conftest import document, edited, local_env


def add_model(data: dict[str, Any]) -> None:
    data["gateway"]["models"].append({"model_name": "demo-extra", "tier": "economy", "demo": True})


def test_a_valid_document_parses_to_the_same_version() -> None:
    env = local_env()
    assert config_version(parse_document(document(env), "local")) == config_version(env)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["gateway"]["backpressure"].update(max_in_flight=0), "gateway.backpressure.max_in_flight"),
        (lambda d: d["gateway"].update(tiers={"economy": d["gateway"]["tiers"]["economy"]}), "premium"),
        (lambda d: d["gateway"]["models"][0].update(tier="gold"), "unknown tier `gold`"),
        (lambda d: d.update(name="prod"), "document is for environment `prod`"),
        (lambda d: d["secrets"].update(master_key={"env": "GATEKIT_TEST_UNSET_KEY"}), "GATEKIT_TEST_UNSET_KEY"),
    ],
)
def test_invalid_documents_are_rejected_naming_what_is_wrong(edit: Any, message: str) -> None:
    with pytest.raises(InvalidDocumentError, match=message.replace("`", ".")):
        parse_document(edited(local_env(), edit), "local")


def test_garbage_is_rejected() -> None:
    with pytest.raises(InvalidDocumentError, match="not a JSON document"):
        parse_document(b"\x00\xffnot json", "local")


def test_file_source_answers_unchanged_by_content_hash(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_bytes(b"{}")
    source = FileSource(str(path))
    first = source.fetch(None)
    assert first is not None and first.body == b"{}"
    assert source.fetch(first.etag) is None
    path.write_bytes(b"{ }")
    assert source.fetch(first.etag) is not None
    path.unlink()
    with pytest.raises(SourceError, match="cannot read"):
        source.fetch(first.etag)


def test_s3_source_uses_if_none_match(s3: Any) -> None:
    s3.create_bucket(Bucket="gk-unit")
    s3.put_object(Bucket="gk-unit", Key="env.json", Body=b"one")
    source = S3Source("s3://gk-unit/env.json")
    first = source.fetch(None)
    assert first is not None and first.body == b"one"
    assert source.fetch(first.etag) is None
    s3.put_object(Bucket="gk-unit", Key="env.json", Body=b"two")
    second = source.fetch(first.etag)
    assert second is not None and second.body == b"two" and second.etag != first.etag
    with pytest.raises(SourceError, match="NoSuchKey"):
        S3Source("s3://gk-unit/missing.json").fetch(None)


def test_gcs_source_downloads_only_a_new_generation(gcs: Any) -> None:
    bucket = gcs.create_bucket("gk-unit")
    bucket.blob("env.json").upload_from_string(b"one")
    source = GcsSource("gs://gk-unit/env.json")
    first = source.fetch(None)
    assert first is not None and first.body == b"one"
    assert source.fetch(first.etag) is None
    bucket.blob("env.json").upload_from_string(b"two")
    second = source.fetch(first.etag)
    assert second is not None and second.body == b"two" and second.etag != first.etag
    with pytest.raises(SourceError, match="no such object"):
        GcsSource("gs://gk-unit/missing.json").fetch(None)


def test_a_source_that_cannot_work_fails_loudly_at_startup() -> None:
    with pytest.raises(SourceUnavailableError, match="not a s3://bucket/key uri"):
        open_source(ConfigSync(source="s3", uri="s3://bucket-without-key"))
    assert open_source(ConfigSync(source="file", uri=None)) is None


def test_the_deployment_provides_the_uri_when_the_config_names_none(s3: Any) -> None:
    """CDK generates the bucket name, so the task gets it as $GATEKIT_CONFIG_URI; an explicit uri still wins."""
    provided = open_source(ConfigSync(source="s3", uri=None), "s3://from-deployment/gateway/environment.json")
    assert isinstance(provided, S3Source)
    assert provided.description == "s3://from-deployment/gateway/environment.json"
    explicit = open_source(ConfigSync(source="s3", uri="s3://from-config/env.json"), "s3://from-deployment/x.json")
    assert isinstance(explicit, S3Source)
    assert explicit.description == "s3://from-config/env.json"
    assert open_source(ConfigSync(source="s3", uri=None), None) is None


def test_the_syncer_applies_valid_documents_and_keeps_the_old_config_on_bad_ones(
    tmp_path: Path, make_state: Any
) -> None:
    state: RuntimeState = make_state()
    startup_version = state.config.version
    path = tmp_path / "env.json"
    applied: list[str] = []

    def apply(env: Any) -> list[str]:
        applied.append(config_version(env))
        return []

    syncer = ConfigSyncer(state, FileSource(str(path)), apply)
    path.write_bytes(document(local_env()))
    assert asyncio.run(syncer.poll_once()) is False  # same version as the startup config: nothing to apply
    path.write_bytes(edited(local_env(), add_model))
    assert asyncio.run(syncer.poll_once()) is True
    new_version = state.config.version
    assert new_version != startup_version and applied == [new_version]
    assert state.metrics.registry.get_sample_value("gatekit_config_reloads_total") == 1

    path.write_bytes(b'{"truncated')
    assert asyncio.run(syncer.poll_once()) is False
    assert state.config.version == new_version
    assert "not a JSON document" in (state.config.last_error or "")
    assert asyncio.run(syncer.poll_once()) is False  # same bad etag: rejected once, not every poll
    assert state.metrics.registry.get_sample_value("gatekit_config_reload_failures_total") == 1

    path.unlink()
    assert asyncio.run(syncer.poll_once()) is False
    assert "fetch failed" in (state.config.last_error or "")
    assert state.config.version == new_version and len(applied) == 1


def test_router_applier_adds_updates_and_removes_deployments_on_a_real_router() -> None:
    from litellm import Router

    from gatekit.render.litellm import render_litellm_config
    from gatekit.runtime.apply import RouterApplier

    env = local_env()
    rendered = render_litellm_config(env)
    router = Router(model_list=rendered["model_list"], **rendered["router_settings"])
    applier = RouterApplier(lambda: router, env)

    def change(data: dict[str, Any]) -> None:
        add_model(data)
        data["gateway"]["models"] = [m for m in data["gateway"]["models"] if m["model_name"] != "demo-premium"]
        data["gateway"]["models"].append({"model_name": "demo-premium-2", "tier": "premium", "demo": True})
        data["gateway"]["routing"].update(num_retries=0, cooldown_seconds=7, strategy="least-busy")
        data["gateway"]["port"] = 4999

    new_env = parse_document(edited(env, change), "local")
    pending = applier(new_env)
    ids = set(router.get_model_ids())
    assert {"economy/demo-extra", "demo-extra/demo-extra", "premium/demo-premium-2"} <= ids
    assert not {"premium/demo-premium", "demo-premium/demo-premium"} & ids
    assert "premium" in router.get_model_names() and "demo-premium" not in router.get_model_names()
    assert router.num_retries == 0 and router.cooldown_time == 7
    assert router.routing_strategy == "least-busy"
    assert pending == ["gateway.port"]


def test_serve_refuses_to_start_with_a_source_it_cannot_read(tmp_path: Path) -> None:
    overrides = ["gateway.config_sync.source=s3", "gateway.config_sync.uri=s3://bucket-without-key"]
    cmd = [sys.executable, "-m", "gatekit.cli", "serve", *[a for o in overrides for a in ("--set", o)]]
    env = {**os.environ, "GATEKIT_RUNTIME_DIR": str(tmp_path)}
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "`s3://bucket-without-key` is not a s3://bucket/key uri" in result.stderr
    assert "Traceback" not in result.stderr
