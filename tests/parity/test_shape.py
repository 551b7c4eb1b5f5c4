"""Shape comparison and declared-difference matching, without servers."""

from __future__ import annotations

import json

from gatekit.parity.declared import Declared, find_declared
from gatekit.parity.runner import Observation, compare
from gatekit.parity.shape import body_shape, flatten, sse_shape


def _obs(status: int | None, body: object, headers: dict[str, bool] | None = None) -> Observation:
    return Observation(status, flatten(body), headers or {}, 1.0)


def test_shapes_compare_structure_and_types_not_values() -> None:
    a = {"id": "x", "choices": [{"message": {"content": "hi"}}], "usage": {"total_tokens": 3}}
    b = {"id": "y", "choices": [{"message": {"content": "other"}}], "usage": {"total_tokens": 9}}
    assert compare(_obs(200, a), _obs(200, b)) == []
    c = {"id": "y", "choices": [{"message": {"content": None, "tool_calls": []}}], "usage": {"total_tokens": "9"}}
    diffs = compare(_obs(200, a), _obs(200, c))
    assert "only upstream: $.choices[].message.tool_calls" in diffs
    assert "type $.usage.total_tokens: number vs str" in diffs
    assert "type $.choices[].message.content: str vs null" in diffs
    assert compare(_obs(200, a), _obs(500, a)) == ["status 200 vs 500"]


def test_transport_errors_are_never_parity() -> None:
    failed = Observation(None, {}, {}, 1.0, "ConnectError: refused")
    assert compare(failed, failed) != []


def test_sse_and_binary_shapes() -> None:
    chunk = {"choices": [{"delta": {"content": "a"}, "finish_reason": None}]}
    last = {"choices": [{"delta": {}, "finish_reason": "stop"}]}
    text = f"data: {json.dumps(chunk)}\n\ndata: {json.dumps(last)}\n\ndata: [DONE]\n\n"
    shape = sse_shape(text)
    assert shape["$.event.choices[].finish_reason"] == "str" and shape["$.[DONE]"] == "marker"
    assert body_shape("audio/wav", b"RIFF....") == {"$": "bytes:audio"}
    assert body_shape("application/json", b"") == {"$": "empty"}


def test_a_declaration_matches_only_the_difference_it_names(monkeypatch: object) -> None:
    import gatekit.parity.declared as declared

    item = Declared("r", "because", gatekit_status=200, upstream_status=404, shape_may_differ=True)
    monkeypatch.setattr(declared, "DECLARED", (item,))  # type: ignore[attr-defined]
    gk, up = _obs(200, {"a": 1}), _obs(404, {"detail": "x"})
    assert find_declared("r", gk, up, compare(gk, up)) is item
    assert find_declared("other", gk, up, compare(gk, up)) is None
    wrong = _obs(500, {"detail": "x"})
    assert find_declared("r", gk, wrong, compare(gk, wrong)) is None
    extra = Declared("s", "adds a key", gatekit_only_paths=("$.extra",))
    monkeypatch.setattr(declared, "DECLARED", (extra,))  # type: ignore[attr-defined]
    gk2, up2 = _obs(200, {"a": 1, "extra": {"b": 2}}), _obs(200, {"a": 1})
    assert find_declared("s", gk2, up2, compare(gk2, up2)) is extra
    gk3 = _obs(200, {"a": "1", "extra": {}})
    assert find_declared("s", gk3, up2, compare(gk3, up2)) is None


def test_ids_and_headers_are_declared_one_by_one(monkeypatch: object) -> None:
    import gatekit.parity.declared as declared

    item = Declared("m", "gatekit lists auto", gatekit_only_ids=("auto",), headers=("x-gatekit-trace-id",))
    monkeypatch.setattr(declared, "DECLARED", (item,))  # type: ignore[attr-defined]
    gk = Observation(200, {"$": "object"}, {"x-gatekit-trace-id": True}, 1.0, ids=["a", "auto"])
    up = Observation(200, {"$": "object"}, {"x-gatekit-trace-id": False}, 1.0, ids=["a"])
    assert find_declared("m", gk, up, compare(gk, up)) is item
    gk_more = Observation(200, {"$": "object"}, {"x-gatekit-trace-id": True}, 1.0, ids=["a", "auto", "b"])
    assert find_declared("m", gk_more, up, compare(gk_more, up)) is None
    up_more = Observation(200, {"$": "object"}, {"x-gatekit-trace-id": False}, 1.0, ids=["a", "c"])
    assert find_declared("m", gk, up_more, compare(gk, up_more)) is None


def test_docs_parity_lists_every_row() -> None:
    """docs/parity.md is written by the command; a row added to the matrix must be measured there too."""
    from gatekit.parity.db_matrix import build_db_matrix
    from gatekit.parity.doc_text import SECTIONS, read_sections
    from gatekit.parity.matrix import build_matrix
    from tests.conftest import REPO

    text = (REPO / "docs" / "parity.md").read_text()
    sections = read_sections(text)
    assert set(sections) == set(SECTIONS)  # every run measured, none "not measured yet"
    missing = [row.name for row in build_matrix("x") if f"| {row.name} " not in sections["local"]]
    db_rows = build_db_matrix("x", non_admin=True)
    missing += [
        row.name for name in ("database", "rehearsed") for row in db_rows if f"| {row.name} " not in sections[name]
    ]
    assert missing == []
    assert all("| DIFFERENT |" not in table and "| error |" not in table for table in sections.values())


def test_demo_media_answers_are_canned_and_labelled() -> None:
    from starlette.testclient import TestClient

    from gatekit.demo.provider import DemoSettings, create_app

    client = TestClient(create_app(DemoSettings()))
    image = client.post("/v1/images/generations", json={"prompt": "x", "n": 2}).json()
    assert len(image["data"]) == 2 and "demo provider" in image["data"][0]["revised_prompt"]
    text = client.post("/v1/audio/transcriptions", files={"file": ("a.wav", b"1234", "audio/wav")}).json()["text"]
    assert "demo provider" in text and "4 bytes" in text
    speech = client.post("/v1/audio/speech", json={"input": "x", "voice": "alloy"})
    assert speech.headers["content-type"] == "audio/wav" and speech.content[:4] == b"RIFF"
    upload = client.post("/v1/files", data={"purpose": "batch"}, files={"file": ("b.jsonl", b"{}\n", "text/plain")})
    file_id = upload.json()["id"]
    assert client.get(f"/v1/files/{file_id}/content").content == b"{}\n"
    batch = client.post("/v1/batches", json={"input_file_id": file_id, "endpoint": "/v1/chat/completions"}).json()
    assert batch["status"] == "validating" and "never executed" in batch["metadata"]["gatekit_demo"]
    assert client.post(f"/v1/batches/{batch['id']}/cancel").json()["status"] == "cancelled"
    assert client.get("/v1/batches/nope").status_code == 404


def test_a_nullable_path_tolerates_null_only_where_named() -> None:
    gk, up = (
        _obs(200, {"info": {"last_active": None, "spend": 1}}),
        _obs(200, {"info": {"last_active": "t", "spend": 1}}),
    )
    assert compare(gk, up) == ["type $.info.last_active: null vs str"]
    assert compare(gk, up, ("$.info.last_active",)) == []
    other = _obs(200, {"info": {"last_active": 3, "spend": 1}})
    assert compare(other, up, ("$.info.last_active",)) == ["type $.info.last_active: number vs str"]
