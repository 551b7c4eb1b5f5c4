"""Safe artifacts: checksums verified on load and on hot reload; a bad artifact never replaces a good one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gatekit.routing.artifact import ArtifactError, build_files, write_artifact
from gatekit.routing.engine import RoutingEngine
from gatekit.routing.source import DirectorySource, upload_dir
from tests.routing.conftest import copy_default, spec_with

SIMPLE = "Translate 'good morning' into French."


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _retrained(src: Path, dest: Path) -> Path:
    """The same router with one neighbour fewer: a different, valid artifact (new version)."""
    manifest = json.loads((src / "manifest.json").read_text())
    router = json.loads((src / "router.json").read_text())
    from safetensors.numpy import load_file

    arrays = load_file(str(src / "weights.safetensors"))
    arrays = {"embeddings": arrays["embeddings"][:-1], "labels": arrays["labels"][:-1]}
    blobs = build_files("knn", router["tiers"], router["params"], arrays, manifest["encoder"], "test")
    return write_artifact(dest, blobs)


def _engine(spec, uri: str, s3=None) -> RoutingEngine:
    engine = RoutingEngine(spec_with(spec, artifact_uri=uri), s3_client=s3)
    engine.load()
    return engine


@pytest.mark.parametrize("victim", ["weights.safetensors", "router.json"])
def test_checksum_mismatch_is_rejected_on_load(spec, tmp_path, victim):
    art = copy_default("knn", tmp_path / "knn")
    _corrupt(art / victim)
    with pytest.raises(ArtifactError, match=f"checksum mismatch for {victim}"):
        _engine(spec, str(art))


def test_manifest_tampering_and_missing_files_are_rejected(spec, tmp_path):
    art = copy_default("knn", tmp_path / "knn")
    manifest = json.loads((art / "manifest.json").read_text())
    manifest["version"] = "0" * 16
    (art / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="version does not match"):
        _engine(spec, str(art))
    art2 = copy_default("knn", tmp_path / "knn2")
    (art2 / "router.json").unlink()
    with pytest.raises(ArtifactError, match=r"router\.json is missing"):
        _engine(spec, str(art2))


def test_no_pickle_anywhere_in_an_artifact(spec, tmp_path):
    art = copy_default("knn", tmp_path / "knn")
    assert sorted(p.name for p in art.iterdir()) == ["manifest.json", "router.json", "weights.safetensors"]
    weights = (art / "weights.safetensors").read_bytes()
    header_len = int.from_bytes(weights[:8], "little")
    header = json.loads(weights[8 : 8 + header_len])  # safetensors: JSON header + raw buffers, nothing executable
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} <= {"F32", "I32", "I64", "F16"}
    assert b"\x80\x04" not in (art / "router.json").read_bytes()


def test_hot_reload_applies_a_good_artifact_and_rejects_a_corrupted_one(spec, tmp_path):
    live = copy_default("knn", tmp_path / "live")
    engine = _engine(spec, str(live))
    first = engine.artifact_version
    assert engine.reload_if_changed() is False  # nothing changed

    new = _retrained(live, tmp_path / "new")
    upload_dir(new, str(live))
    assert engine.reload_if_changed() is True
    second = engine.artifact_version
    assert second != first and engine.reloads == 1

    broken = tmp_path / "broken"
    shutil.copytree(new, broken)
    _corrupt(broken / "weights.safetensors")
    for name in ("weights.safetensors", "router.json", "manifest.json"):
        shutil.copy(broken / name, live / name)
    assert engine.reload_if_changed() is False
    assert engine.artifact_version == second  # the old router keeps serving
    assert engine.decide(SIMPLE).tier == "economy"
    status = engine.status()
    assert status["ready"] and status["failures"] == 1
    assert "checksum mismatch for weights.safetensors" in status["last_error"]


def test_encoder_mismatch_is_rejected(spec, tmp_path):
    art = copy_default("knn", tmp_path / "knn")
    manifest = json.loads((art / "manifest.json").read_text())
    router = json.loads((art / "router.json").read_text())
    from safetensors.numpy import load_file

    arrays = load_file(str(art / "weights.safetensors"))
    enc = {**manifest["encoder"], "fingerprint": "longformer-static:0000"}
    write_artifact(tmp_path / "other", build_files("knn", router["tiers"], router["params"], arrays, enc, "test"))
    with pytest.raises(ArtifactError, match="trained with encoder longformer-static:0000"):
        _engine(spec, str(tmp_path / "other"))


def test_s3_artifact_loads_reloads_and_survives_corruption(spec, tmp_path, s3_client):
    s3_client.create_bucket(Bucket="routers")
    uri = "s3://routers/prod/knn"
    local = copy_default("knn", tmp_path / "knn")
    upload_dir(local, uri, s3_client)
    engine = _engine(spec, uri, s3_client)
    first = engine.artifact_version
    assert engine.status()["artifact_uri"] == uri
    assert engine.reload_if_changed() is False

    upload_dir(_retrained(local, tmp_path / "new"), uri, s3_client)
    assert engine.reload_if_changed() is True
    second = engine.artifact_version
    assert second != first

    body = bytearray(s3_client.get_object(Bucket="routers", Key="prod/knn/weights.safetensors")["Body"].read())
    body[100] ^= 0xFF
    s3_client.put_object(Bucket="routers", Key="prod/knn/weights.safetensors", Body=bytes(body))
    assert engine.reload_if_changed() is False
    assert engine.artifact_version == second
    assert engine.decide(SIMPLE).tier == "economy"
    assert "checksum mismatch" in engine.status()["last_error"]


def test_watcher_thread_picks_up_a_new_artifact(spec, tmp_path):
    import time

    live = copy_default("knn", tmp_path / "live")
    engine = RoutingEngine(spec_with(spec, artifact_uri=str(live), reload_interval_seconds=1))
    engine.load()
    engine.start_watcher()
    try:
        first = engine.artifact_version
        upload_dir(_retrained(live, tmp_path / "new"), str(live))
        deadline = time.monotonic() + 10
        while engine.artifact_version == first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert engine.artifact_version != first
    finally:
        engine.stop_watcher()


def test_directory_source_reads_only_artifact_files(tmp_path):
    art = copy_default("knn", tmp_path / "knn")
    (art / "extra.pkl").write_bytes(b"\x80\x04K\x01.")
    files = DirectorySource(art).fetch()
    assert set(files.blobs) == {"manifest.json", "router.json", "weights.safetensors"}
    assert np.frombuffer(files.blobs["manifest.json"][:1], dtype=np.uint8)[0] == ord("{")
