"""Carry out a tenancy plan through LiteLLM's admin API (master key). Each change is one or two calls; the first
failure stops the run with what failed (a later `plan` shows what is left). Key values go to LiteLLM only: never
printed, logged or returned."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gatekit.config.tenants import Tenants
from gatekit.ops.errors import OpsError
from gatekit.ops.gateway_api import GatewayApi, error_text
from gatekit.ops.tenants_plan import Change, Plan
from gatekit.ops.tenants_state import MANAGED, key_value

MARK = {"metadata": {MANAGED: True}}
LIMITS = ("models", "max_budget", "budget_duration", "rpm_limit", "tpm_limit")


def _post(api: GatewayApi, path: str, body: dict[str, Any], secret: str | None = None) -> Any:
    response = api.request("POST", path, json=body)
    if response.status_code != 200:
        text = error_text(response)
        if secret:
            text = text.replace(secret, "<key value>")
        raise OpsError(f"POST {path} failed ({response.status_code}): {text}")
    return response.json()


def _set(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _create(api: GatewayApi, change: Change, tenants: Tenants, environ: Mapping[str, str] | None) -> None:
    want = change.desired
    assert want is not None
    fields = _set({k: v for k, v in want.fields.items() if k in LIMITS})
    if change.kind == "team":
        _post(api, "/team/new", {"team_id": want.name, "team_alias": want.name, **fields, **MARK})
    elif change.kind == "user":
        body = {"user_id": want.name, "user_role": want.fields["user_role"], "teams": want.fields["teams"], **fields}
        if want.fields["user_email"]:
            body["user_email"] = want.fields["user_email"]
        _post(api, "/user/new", {**body, "auto_create_key": False, **MARK})
    else:
        spec = tenants.keys[want.name]
        value = key_value(want.name, spec, environ)
        if value is None:
            raise OpsError(
                f"key `{want.name}`: {spec.secret.describe()} is not readable here (${spec.secret.env_var} is unset); "
                "put the key's value in that secret and export it before `apply`"
            )
        ids = _set({"team_id": want.fields["team_id"], "user_id": want.fields["user_id"]})
        _post(api, "/key/generate", {"key": value, "key_alias": want.name, **ids, **fields, **MARK}, secret=value)


def _update(api: GatewayApi, change: Change, tenants: Tenants, environ: Mapping[str, str] | None) -> None:
    changed = {k: desired for k, (_, desired) in change.diff.items() if k != "metadata.gatekit_managed"}
    adopt = MARK if "metadata.gatekit_managed" in change.diff else {}
    cleared = sorted(k for k, v in changed.items() if v is None)
    if cleared and change.kind == "key":  # LiteLLM's update ignores null: re-register the key without the limit
        _delete(api, change)
        _create(api, change, tenants, environ)
        return
    if cleared:
        raise OpsError(
            f"removing {', '.join(cleared)} from {change.kind} `{change.name}` is not possible through LiteLLM's "
            "update API (it ignores null values): set the limit explicitly (e.g. a large value) instead"
        )
    if change.kind == "team":
        _post(api, "/team/update", {"team_id": change.name, **changed, **adopt})
    elif change.kind == "user":
        live_teams: set[str] = set(change.live.fields["teams"]) if change.live else set()
        teams = set(changed.pop("teams", live_teams))
        if changed or adopt:
            _post(api, "/user/update", {"user_id": change.name, **changed, **adopt})
        for team in sorted(teams - live_teams):
            _post(api, "/team/member_add", {"team_id": team, "member": {"role": "user", "user_id": change.name}})
        for team in sorted(live_teams - teams):
            _post(api, "/team/member_delete", {"team_id": team, "user_id": change.name})
    else:
        assert change.live is not None and change.live.token
        _post(api, "/key/update", {"key": change.live.token, **changed, **adopt})


def _delete(api: GatewayApi, change: Change) -> None:
    if change.kind == "team":
        _post(api, "/team/delete", {"team_ids": [change.name]})
    elif change.kind == "user":
        _post(api, "/user/delete", {"user_ids": [change.name]})
    else:
        assert change.live is not None and change.live.token
        _post(api, "/key/delete", {"keys": [change.live.token]})


def apply_plan(
    api: GatewayApi,
    plan: Plan,
    tenants: Tenants,
    echo: Callable[[str], None],
    environ: Mapping[str, str] | None = None,
) -> int:
    """Apply every change in plan order; returns how many were applied."""
    for done, change in enumerate(plan.changes):
        try:
            if change.action == "create":
                _create(api, change, tenants, environ)
            elif change.action == "update":
                _update(api, change, tenants, environ)
            elif change.action == "rotate":
                _delete(api, change)
                _create(api, change, tenants, environ)
            else:
                _delete(api, change)
        except OpsError as exc:
            raise OpsError(
                f"{change.kind} {change.name}: {change.action} failed after {done} change(s): {exc}"
            ) from None
        echo(change.line())
    return len(plan.changes)
