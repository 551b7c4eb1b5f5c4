"""Give a team or a virtual key exactly the MCP servers and A2A agents of its access groups (`gateway.access_groups`),
through LiteLLM's own management API (`/team/new`, `/key/generate`; needs the gateway's database and master key).

LiteLLM intersects a key's grants with its team's when both carry one, so a key of a team is granted what its alias
and its team are granted together (`object_permission(env, key_alias, team)`): the team's grants then bound it."""

from __future__ import annotations

from typing import Any

from gatekit.config import Environment
from gatekit.ops.errors import OpsError
from gatekit.ops.gateway_api import GatewayApi, error_text
from gatekit.render.agents import object_permission


def _post(api: GatewayApi, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.request("POST", path, json=body)
    if response.status_code != 200:
        raise OpsError(f"{path} refused ({response.status_code}): {error_text(response)}")
    return dict(response.json())


def create_team(api: GatewayApi, env: Environment, team: str, **fields: Any) -> dict[str, Any]:
    """A team whose id and alias are `team` (the name `gateway.access_groups.*.teams` uses), granted its groups."""
    body = {"team_id": team, "team_alias": team, **fields, "object_permission": object_permission(env, team=team)}
    return _post(api, "/team/new", body)


def create_key(api: GatewayApi, env: Environment, alias: str, team: str | None = None, **fields: Any) -> dict[str, Any]:
    """A virtual key with alias `alias` (in `team` when given), granted the groups of its alias and its team.
    Returns LiteLLM's answer (`key` is the secret: hand it to its holder, never log it)."""
    body: dict[str, Any] = {"key_alias": alias, **fields}
    if team is not None:
        body["team_id"] = team
    body["object_permission"] = object_permission(env, key_alias=alias, team=team)
    return _post(api, "/key/generate", body)
