"""The two sides of a tenancy plan, in one shape: LiteLLM's field names, gatekit-managed markers, no secret values.

Desired state comes from `tenants:` (gatekit/config/tenants.py); live state from LiteLLM's admin API (list endpoints,
master key). A key is compared by the SHA-256 of its value, which is what LiteLLM stores as its token."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from gatekit.config.gateway import KeyLimits
from gatekit.config.tenants import Allowance, Key, Tenants
from gatekit.ops.errors import OpsError
from gatekit.ops.gateway_api import GatewayApi, error_text

MANAGED = "gatekit_managed"
KINDS = ("team", "user", "key")
PAGE = 100


@dataclass
class Principal:
    kind: str  # team | user | key
    name: str  # team_id, user_id or key_alias
    fields: dict[str, Any]  # compared fields, LiteLLM names
    managed: bool = True
    token: str | None = None  # key: the hashed token LiteLLM stores (live), or of the secret's value (desired)
    extra: dict[str, Any] = field(default_factory=dict)


def _allowance(spec: Allowance) -> dict[str, Any]:
    return {
        "models": sorted(spec.models),
        "max_budget": spec.max_budget_usd,
        "budget_duration": spec.budget_duration,
        "rpm_limit": spec.rpm,
        "tpm_limit": spec.tpm,
    }


def key_value(name: str, key: Key, environ: Mapping[str, str] | None = None) -> str | None:
    """The key's value from its reference's environment variable; None when unset. Raises on a malformed value
    (without echoing it)."""
    value = (os.environ if environ is None else environ).get(key.secret.env_var)
    if value is None:
        return None
    if not value.startswith("sk-") or len(value) < 20 or value != value.strip():
        raise OpsError(
            f"key `{name}`: the value of {key.secret.describe()} (${key.secret.env_var}) is not a virtual key: it "
            "must start with `sk-`, be at least 20 characters and have no surrounding whitespace"
        )
    return value


def hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _key_defaults(fields: dict[str, Any], defaults: KeyLimits | None) -> dict[str, Any]:
    """LiteLLM fills a new key's unset limits from `default_key_generate_params` (gateway.limits.default_key): an
    unset limit in `tenants.keys` means that default, so the plan compares against it."""
    if defaults is None:
        return fields
    fallback = {
        "max_budget": defaults.max_budget_usd,
        "budget_duration": defaults.budget_duration,
        "rpm_limit": defaults.rpm,
        "tpm_limit": defaults.tpm,
    }
    return {k: (fallback[k] if v is None and k in fallback else v) for k, v in fields.items()}


def desired_state(
    tenants: Tenants, environ: Mapping[str, str] | None = None, key_defaults: KeyLimits | None = None
) -> list[Principal]:
    out: list[Principal] = []
    for name, team in tenants.teams.items():
        out.append(Principal("team", name, {"team_alias": name, **_allowance(team)}))
    for name, user in tenants.users.items():
        fields = {"user_email": user.email, "user_role": user.role, "teams": sorted(user.teams), **_allowance(user)}
        out.append(Principal("user", name, fields))
    for name, key in tenants.keys.items():
        value = key_value(name, key, environ)
        fields = _key_defaults({"team_id": key.team, "user_id": key.user, **_allowance(key)}, key_defaults)
        out.append(Principal("key", name, fields, token=hashed(value) if value else None, extra={"ref": key.secret}))
    return out


def _live_fields(kind: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    allowance = {
        "models": sorted(obj.get("models") or []),
        "max_budget": obj.get("max_budget"),
        "budget_duration": obj.get("budget_duration"),
        "rpm_limit": obj.get("rpm_limit"),
        "tpm_limit": obj.get("tpm_limit"),
    }
    if kind == "team":
        return {"team_alias": obj.get("team_alias"), **allowance}
    if kind == "user":
        teams = sorted(obj.get("teams") or [])
        return {"user_email": obj.get("user_email"), "user_role": obj.get("user_role"), "teams": teams, **allowance}
    return {"team_id": obj.get("team_id"), "user_id": obj.get("user_id"), **allowance}


def _managed(obj: Mapping[str, Any]) -> bool:
    metadata = obj.get("metadata")
    return isinstance(metadata, dict) and cast("dict[str, Any]", metadata).get(MANAGED) is True


def _get(api: GatewayApi, path: str, params: dict[str, Any]) -> Any:
    response = api.request("GET", path, params=params)
    if response.status_code == 401:
        raise OpsError(f"{api.url} refused the master key (401)")
    if response.status_code != 200:
        raise OpsError(f"GET {path} failed ({response.status_code}): {error_text(response)}")
    return response.json()


def _pages(api: GatewayApi, path: str, items: str, size_param: str, extra: dict[str, Any]) -> Iterator[Any]:
    page = 1
    while True:
        body = _get(api, path, {"page": page, size_param: PAGE, **extra})
        batch: list[Any] = body.get(items) or []
        yield from batch
        total_pages = body.get("total_pages") or 1
        if page >= total_pages or not batch:
            return
        page += 1


def live_state(api: GatewayApi) -> list[Principal]:
    out: list[Principal] = []
    teams = _get(api, "/team/list", {})
    for team in cast("list[Any]", teams) if isinstance(teams, list) else teams.get("teams", []):
        out.append(Principal("team", team["team_id"], _live_fields("team", team), _managed(team)))
    for user in _pages(api, "/user/list", "users", "page_size", {}):
        out.append(Principal("user", user["user_id"], _live_fields("user", user), _managed(user)))
    for key in _pages(api, "/key/list", "keys", "size", {"return_full_object": "true"}):
        alias = key.get("key_alias")
        if not alias:
            continue  # keys without an alias are never gatekit's (it names every key it registers)
        out.append(Principal("key", alias, _live_fields("key", key), _managed(key), token=key.get("token")))
    return out
