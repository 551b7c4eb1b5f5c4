"""The rehearsal's checks, each against the real running replicas and the real database. Every check records what
it saw (status codes, rows, versions, exit codes), pass or fail."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any, cast

import httpx

from gatekit.rehearse.processes import Running
from gatekit.rehearse.report import Report

READY_TIMEOUT_SECONDS = 420
SPEND_TIMEOUT_SECONDS = 180
RELOAD_TIMEOUT_SECONDS = 240


def _poll(probe: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """`probe()` until it returns something truthy or the time is up (then its last value)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    return value


def wait_ready(replica: Running, path: str) -> dict[str, Any]:
    """Readiness polling: 200 from `path`, or the process exits, or the timeout passes."""
    seen: dict[str, Any] = {}

    def probe() -> bool:
        if replica.proc.poll() is not None:
            seen["exit_code"] = replica.proc.returncode
            return True
        try:
            r = httpx.get(replica.base_url + path, timeout=10)
        except httpx.HTTPError as exc:
            seen["last_error"] = type(exc).__name__
            return False
        seen["status"], seen["body"] = r.status_code, r.text[:500]
        return r.status_code == 200

    _poll(probe, READY_TIMEOUT_SECONDS)
    return seen


def _json_or_empty(text: str | None) -> dict[str, Any]:
    """A readiness body that is not a JSON object has no `db` field (recorded as such in the evidence)."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {"unparsed": (text or "")[:200]}
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def db_connected(report: Report, replicas: list[Running], readiness: list[dict[str, Any]]) -> None:
    states: list[dict[str, Any]] = []
    for replica, seen in zip(replicas, readiness, strict=True):
        body = _json_or_empty(seen.get("body"))
        states.append({"replica": replica.name, "status": seen.get("status"), "db": body.get("db"), **seen})
    ok = all(s["status"] == 200 and s["db"] == "connected" for s in states)
    report.add("db_connected", ok, replicas=[{k: s[k] for k in ("replica", "status", "db")} for s in states],
               detail=None if ok else states)  # fmt: skip


def migrations(
    report: Report, exit_code: int | None, log_tail: str, sql: Callable[[str], list[tuple[Any, ...]]]
) -> bool:
    applied = sql("SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL") if exit_code == 0 else []
    tables = sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'LiteLLM_VerificationToken'"
    ) if exit_code == 0 else []  # fmt: skip
    count = applied[0][0] if applied else 0
    ok = exit_code == 0 and count > 0 and bool(tables and tables[0][0] == 1)
    report.add("migrations", ok, exit_code=exit_code, applied_migrations=count, log_tail=None if ok else log_tail)
    return ok


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def generate_key(replica: Running, master_key: str, **body: Any) -> tuple[int, dict[str, Any]]:
    r = httpx.post(replica.base_url + "/key/generate", headers=_auth(master_key), json=body, timeout=60)
    return r.status_code, (r.json() if r.headers.get("content-type", "").startswith("application/json") else {})


def chat(replica: Running, key: str, model: str) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "rehearsal: say hello"}], "max_tokens": 16}
    return httpx.post(replica.base_url + "/v1/chat/completions", headers=_auth(key), json=body, timeout=120)


def virtual_key(report: Report, replicas: list[Running], master_key: str, model: str) -> str | None:
    status, body = generate_key(replicas[0], master_key, models=[model], max_budget=100.0)
    key = body.get("key")
    if status != 200 or not key:
        report.add("virtual_key", False, generate_status=status, body=body)
        return None
    answers: list[dict[str, Any]] = []
    for replica in replicas:  # a key created on one replica works on every replica (shared database)
        r = chat(replica, key, model)
        answers.append({"replica": replica.name, "status": r.status_code, "body": r.text[:200]})
    ok = all(a["status"] == 200 for a in answers)
    report.add("virtual_key", ok, generated_on=replicas[0].name, chats=answers)
    return key if ok else None


def hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def spend_recorded(report: Report, key: str | None, sql: Callable[[str], list[tuple[Any, ...]]]) -> None:
    if key is None:
        report.add("spend_recorded", False, reason="no working virtual key")
        return
    token = hashed(key)

    def probe() -> list[tuple[Any, ...]]:
        return sql(
            f"SELECT request_id, model, spend, total_tokens FROM \"LiteLLM_SpendLogs\" WHERE api_key = '{token}'"
        )

    rows: list[tuple[Any, ...]] = _poll(probe, SPEND_TIMEOUT_SECONDS, interval=2.0) or []
    report.add("spend_recorded", bool(rows), rows=len(rows), first=[str(v) for v in rows[0]] if rows else None)


def budget_enforced(report: Report, replicas: list[Running], master_key: str, model: str) -> None:
    status, body = generate_key(replicas[-1], master_key, models=[model], max_budget=0.0)
    key = body.get("key")
    if status != 200 or not key:
        report.add("budget_enforced", False, generate_status=status, body=body)
        return
    r = chat(replicas[0], key, model)
    refused = 400 <= r.status_code < 500 and "budget" in r.text.lower()
    report.add("budget_enforced", refused, status=r.status_code, body=r.text[:300])


def config_versions(replicas: list[Running], master_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for replica in replicas:
        try:
            r = httpx.get(replica.base_url + "/gatekit/config", headers=_auth(master_key), timeout=10)
            out[replica.name] = r.json() if r.status_code == 200 else {"status": r.status_code}
        except httpx.HTTPError as exc:
            out[replica.name] = {"error": type(exc).__name__}
    return out


def hot_reload(
    report: Report, replicas: list[Running], master_key: str, publish: Callable[[], str], where: str
) -> None:
    before = config_versions(replicas, master_key)
    expected = publish()
    seen: dict[str, Any] = {}

    def probe() -> bool:
        seen.update(config_versions(replicas, master_key))
        return all(v.get("version") == expected for v in seen.values())

    ok = bool(_poll(probe, RELOAD_TIMEOUT_SECONDS, interval=2.0))
    report.add(
        "hot_reload",
        ok,
        source=where,
        expected_version=expected,
        before={k: v.get("version") for k, v in before.items()},
        after={k: {"version": v.get("version"), "reloads": v.get("reloads"), "last_error": v.get("last_error")}
               for k, v in seen.items()},
    )  # fmt: skip


def drain(report: Report, replicas: list[Running]) -> None:
    results: list[dict[str, Any]] = []
    for replica in replicas:
        replica.terminate()
    for replica in replicas:
        budget = (replica.spec.stop_timeout_seconds or 120) + 30
        try:
            code: int | None = replica.proc.wait(budget)
        except subprocess.TimeoutExpired:
            replica.kill()
            code = None
        tail = replica.tail(20000)
        result: dict[str, Any] = {"replica": replica.name, "exit_code": code, "drained_logged": "drained" in tail}
        if code != 0:  # why: the supervisor's and the workers' error lines (a worker's exit code, a spent budget)
            result["errors"] = [line[:400] for line in tail.splitlines() if '"level": "ERROR"' in line][-8:]
            result["log_tail"] = tail[-1500:]
        results.append(result)
    ok = all(r["exit_code"] == 0 for r in results)
    report.add("drain", ok, replicas=results)
