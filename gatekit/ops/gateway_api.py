"""Operations that go through the gateway's own admin API (master key): cache flush, spend report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import httpx

from gatekit.ops.errors import OpsError


@dataclass(frozen=True)
class GatewayApi:
    url: str
    key: str
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = None

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url.rstrip("/"), timeout=self.timeout, transport=self.transport)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            with self._client() as client:
                return client.request(method, path, headers={"Authorization": f"Bearer {self.key}"}, **kwargs)
        except httpx.HTTPError as exc:
            raise OpsError(
                f"cannot reach the gateway at {self.url}: {type(exc).__name__}: {exc}", exit_code=5
            ) from None


def error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    error: Any = body
    if isinstance(body, dict):
        fields = cast("dict[str, Any]", body)
        error = fields.get("error", fields.get("detail", fields))
    if isinstance(error, dict):
        fields = cast("dict[str, Any]", error)
        error = fields.get("message", fields.get("error", fields))
    return str(error)[:300]


def flush_cache(api: GatewayApi) -> str:
    """LiteLLM's POST /cache/flushall: FLUSHALL on the shared Redis/Valkey (every replica's cache at once)."""
    response = api.request("POST", "/cache/flushall")
    if response.status_code == 401:
        raise OpsError(f"{api.url} refused the master key (401)")
    if response.status_code != 200:
        raise OpsError(
            f"the gateway could not flush its cache ({response.status_code}): {error_text(response)} — flushing "
            "needs gateway.caching.backend: redis (a local in-memory cache is per replica and cannot be flushed)"
        )
    return str(response.json().get("status", "success"))


def spend_report(api: GatewayApi, start: str, end: str, group_by: str) -> list[dict[str, Any]]:
    """LiteLLM's GET /global/spend/report (needs its database)."""
    params = {"start_date": start, "end_date": end, "group_by": group_by}
    response = api.request("GET", "/global/spend/report", params=params)
    if response.status_code == 401:
        raise OpsError(f"{api.url} refused the master key (401)")
    if response.status_code != 200:
        text = error_text(response)
        if "db" in text.lower() or "database" in text.lower() or "prisma" in text.lower():
            raise OpsError(f"no spend data: the gateway has no database connected ({text})")
        raise OpsError(f"spend report failed ({response.status_code}): {text}")
    body = response.json()
    if not isinstance(body, list):
        raise OpsError(f"unexpected spend report shape from {api.url}: {str(body)[:200]}")
    return cast("list[dict[str, Any]]", body)


def spend_totals(rows: list[dict[str, Any]], group_by: str) -> dict[str, dict[str, float]]:
    """Flatten LiteLLM's report shapes into {group: {model: USD}}. `team` and `customer` rows are per day
    ({group_by_day, teams|customers: [{team_name|customer, total_spend, metadata: [{model, spend}]}]}); `api_key` rows
    are per key ({api_key, total_cost, model_details: [{model, total_cost}]})."""
    totals: dict[str, dict[str, float]] = {}
    if group_by == "api_key":
        for row in rows:
            models = totals.setdefault(str(row.get("api_key") or "(none)"), {})
            details: list[dict[str, Any]] = row.get("model_details") or []
            for detail in details:
                model = str(detail.get("model") or "(unknown)")
                models[model] = models.get(model, 0.0) + float(detail.get("total_cost") or 0)
        return totals
    members, name_key = ("teams", "team_name") if group_by == "team" else ("customers", "customer")
    for day in rows:
        day_members: list[dict[str, Any]] = day.get(members) or []
        for member in day_members:
            models = totals.setdefault(str(member.get(name_key) or "(none)"), {})
            member_details: list[dict[str, Any]] = member.get("metadata") or []
            for detail in member_details:
                model = str(detail.get("model") or "(unknown)")
                models[model] = models.get(model, 0.0) + float(detail.get("spend") or 0)
    return totals


def spend_table(totals: dict[str, dict[str, float]]) -> str:
    if not totals:
        return "no spend in this period"
    lines = [f"{'group / model':<48} {'USD':>12}"]
    for group, models in sorted(totals.items(), key=lambda item: -sum(item[1].values())):
        lines.append(f"{group:<48} {sum(models.values()):>12.4f}")
        lines += [f"  {model:<46} {cost:>12.4f}" for model, cost in sorted(models.items(), key=lambda m: -m[1])]
    lines.append(f"{'TOTAL':<48} {sum(sum(m.values()) for m in totals.values()):>12.4f}")
    return "\n".join(lines)
