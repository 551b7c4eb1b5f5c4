"""Send every matrix row to a deployment (and to vanilla LiteLLM) and compare status, shape and headers."""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, cast

import httpx

from gatekit.demo.extras import FAULTS_PATH
from gatekit.parity.db_matrix import build_db_matrix, build_deployment_matrix
from gatekit.parity.declared import Declared, find_declared
from gatekit.parity.matrix import Models, Row, build_matrix
from gatekit.parity.shape import Shape, body_shape, diff


@dataclass
class Observation:
    status: int | None  # None: the request failed at the transport level
    shape: Shape
    headers: dict[str, bool]
    latency_ms: float
    error: str = ""
    ids: list[str] | None = None


@dataclass
class Result:
    row: Row
    gatekit: Observation
    upstream: Observation | None
    differences: list[str] = field(default_factory=list)
    declared: Declared | None = None

    @property
    def verdict(self) -> str:
        if self.gatekit.status is None or (self.upstream is not None and self.upstream.status is None):
            return "error"
        if self.upstream is None:
            return "measured"
        if not self.differences:
            return "identical"
        return "declared" if self.declared is not None else "DIFFERENT"

    @property
    def failed(self) -> bool:
        return self.verdict in ("DIFFERENT", "error")


def _fill(value: Any, context: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, captured in context.items():
            value = value.replace("{" + name + "}", captured)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, context) for k, v in cast("dict[str, Any]", value).items()}
    if isinstance(value, list):
        return [_fill(v, context) for v in cast("list[Any]", value)]
    return value


def _nonempty(response: httpx.Response) -> bool:
    """A 200 whose JSON answer is a non-empty list (or an object with a non-empty `data` list)."""
    if response.status_code != 200:
        return False
    try:
        body: Any = response.json()
    except ValueError:
        return False
    items: Any = cast("dict[str, Any]", body).get("data") if isinstance(body, dict) else body
    return isinstance(items, list) and bool(cast("list[Any]", items))


def _send(client: httpx.Client, row: Row, url: str, kwargs: dict[str, Any]) -> httpx.Response:
    response = None
    for _ in range(row.repeat):
        response = client.request(row.method, url, **kwargs)
    deadline = time.monotonic() + row.poll_seconds
    while row.poll_seconds and response is not None and not _nonempty(response) and time.monotonic() < deadline:
        time.sleep(2)
        response = client.request(row.method, url, **kwargs)
    deadline = time.monotonic() + row.probe_seconds
    while row.probe_seconds and response is not None and response.status_code != 200:
        if time.monotonic() >= deadline:
            break
        time.sleep(2)
        response = client.request(row.method, url, **kwargs)
    assert response is not None
    return response


def observe(
    client: httpx.Client,
    base: str,
    key: str,
    row: Row,
    context: dict[str, str],
    demo: str | None = None,
    non_admin: httpx.Client | None = None,
) -> Observation:
    named = {"master": key, "wrong": "sk-parity-not-the-master-key", "none": ""}
    presented = named[row.auth] if row.auth in named else _fill(row.auth, context)
    headers = {"Authorization": f"Bearer {presented}"} if presented else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if row.json is not None:
        kwargs["json"] = _fill(row.json, context)
    if row.form is not None:
        kwargs["data"] = _fill(row.form, context)
    if row.upload is not None:
        kwargs["files"] = {"file": row.upload}
    url = base.rstrip("/") + _fill(row.path, context)
    if row.non_admin and non_admin is None:
        raise ValueError(f"row `{row.name}` needs a non-admin client address")
    sender = non_admin if row.non_admin and non_admin is not None else client
    if row.fault is not None:
        client.put(f"{demo}{FAULTS_PATH}", json=[row.fault]).raise_for_status()
    start = time.perf_counter()
    try:
        response = _send(sender, row, url, kwargs)
    except httpx.HTTPError as exc:
        return Observation(None, {}, {}, (time.perf_counter() - start) * 1000, f"{type(exc).__name__}: {exc}")
    finally:
        if row.fault is not None:
            client.delete(f"{demo}{FAULTS_PATH}").raise_for_status()
    latency = (time.perf_counter() - start) * 1000 / row.repeat
    shape = body_shape(response.headers.get("content-type", ""), response.content)
    if row.capture and response.status_code == 200:
        answer = response.json()
        for name, key_name in row.capture:
            captured = answer.get(key_name)
            if isinstance(captured, str):
                context[name] = captured
    present = {h: h in response.headers for h in row.headers}
    ids = None
    if row.ids and response.status_code == 200:
        ids = sorted(str(item.get("id")) for item in response.json().get("data", []))
    return Observation(response.status_code, shape, present, latency, ids=ids)


def compare(gk: Observation, up: Observation, nullable: tuple[str, ...] = ()) -> list[str]:
    if gk.status is None or up.status is None:  # a request that got no answer is never parity
        return [f"transport: gatekit {gk.error or gk.status} / upstream {up.error or up.status}"]
    out: list[str] = []
    if gk.status != up.status:
        out.append(f"status {gk.status} vs {up.status}")
    only_gk, only_up, changed = diff(gk.shape, up.shape)
    out += [f"only gatekit: {p}" for p in only_gk]
    out += [f"only upstream: {p}" for p in only_up]
    changed = [p for p in changed if not (p in nullable and "null" in (gk.shape[p], up.shape[p]))]
    out += [f"type {p}: {gk.shape[p]} vs {up.shape[p]}" for p in changed]
    out += [
        f"header {h}: gatekit {gk.headers[h]} / upstream {up.headers.get(h)}"
        for h in gk.headers
        if gk.headers[h] != up.headers.get(h)
    ]
    if gk.ids != up.ids:
        out += [f"only gatekit: id {i}" for i in sorted(set(gk.ids or []) - set(up.ids or []))]
        out += [f"only upstream: id {i}" for i in sorted(set(up.ids or []) - set(gk.ids or []))]
    return out


def run_side(
    base: str, key: str, rows: list[Row], timeout: float, demo: str | None, non_admin_source: str | None = None
) -> list[Observation]:
    context: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(httpx.Client(timeout=timeout))
        non_admin = None
        if non_admin_source:
            transport = httpx.HTTPTransport(local_address=non_admin_source)
            non_admin = stack.enter_context(httpx.Client(timeout=timeout, transport=transport))
        return [observe(client, base, key, row, context, demo, non_admin) for row in rows]


MATRICES = ("local", "database", "deployment")


def build_rows(matrix: str, token: str, faults: bool, models: Models, non_admin: bool) -> list[Row]:
    if matrix == "local":
        return build_matrix(token, faults=faults, models=models)
    if matrix == "database":
        return build_db_matrix(token, non_admin, models)
    if matrix == "deployment":
        return build_deployment_matrix(token, models, non_admin)
    raise ValueError(f"unknown matrix `{matrix}` (one of {', '.join(MATRICES)})")


def run_parity(
    url: str,
    key: str,
    against: str | None,
    timeout: float = 60.0,
    demo: str | None = None,
    matrix: str = "local",
    non_admin_source: str | None = None,
    models: Models | None = None,
) -> list[Result]:
    """`demo`: the demo provider both sides share; without it the fault-staging rows are left out. `matrix`: `local`
    (DB-less, `make up`), `database` (management and spend, both sides with a database) or `deployment` (a cloud
    target: both). `non_admin_source`: a local address outside the deployment's admin_cidrs (the non-admin row).
    Each side gets its own prompt token, so a cache both sides share (Redis) never answers one with the other's."""
    models = models or Models()
    rows, upstream_rows = (
        build_rows(matrix, secrets.token_hex(6), demo is not None, models, non_admin_source is not None)
        for _ in range(2)
    )
    demo = demo.rstrip("/") if demo else None
    gatekit_side = run_side(url, key, rows, timeout, demo, non_admin_source)
    if against is None:
        return [Result(row, obs, None) for row, obs in zip(rows, gatekit_side, strict=True)]
    upstream_side = run_side(against, key, upstream_rows, timeout, demo, non_admin_source)
    results: list[Result] = []
    for row, gk, up in zip(rows, gatekit_side, upstream_side, strict=True):
        differences = compare(gk, up, row.nullable)
        declared = find_declared(row.name, gk, up, differences) if differences else None
        results.append(Result(row, gk, up, differences, declared))
    return results
