"""Tenancy as code: the teams, users and virtual keys of one environment, reconciled through LiteLLM's admin API by
`gatekit tenants plan` / `gatekit tenants apply` (gatekit/ops/tenants_*.py).

A key's value is never in config: it is a secret reference (`{secret: NAME}` or `{env: VAR}`), read by `apply` from
the reference's environment variable (the same variable the gateway would read; CI fills it from the secret store)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pydantic import BaseModel, ConfigDict, Field

from gatekit.config.profiles import Profile
from gatekit.config.secrets import SecretRef

TenantName = str
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class Allowance(_Strict):
    """Budget, rate limits and model access, shared by teams, users and keys (empty: no limit of its own)."""

    models: list[str] = Field(
        default_factory=list,
        description="Tiers or model names this principal may call (`auto` for ML routing); empty: every model.",
    )
    max_budget_usd: float | None = Field(default=None, gt=0, description="Spend limit in USD.")
    budget_duration: str | None = Field(
        default=None, pattern=r"^\d+[smhd]$", description="Budget reset period, e.g. `30d`; empty: never resets."
    )
    rpm: int | None = Field(default=None, ge=1, description="Requests per minute (shared across replicas via Redis).")
    tpm: int | None = Field(default=None, ge=1, description="Tokens per minute.")


class Team(Allowance):
    description: str = ""
    profile: Profile | None = Field(
        default=None,
        description="ML routing profile cap for the team's requests to the routing alias (joins "
        "`gateway.routing.ml.team_profiles`).",
    )


class User(Allowance):
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    role: str = Field(
        default="internal_user",
        pattern=r"^(internal_user|internal_user_viewer|proxy_admin|proxy_admin_viewer)$",
        description="LiteLLM user role.",
    )
    teams: list[TenantName] = Field(default_factory=list, description="Teams (names under `tenants.teams`).")


class Key(Allowance):
    secret: SecretRef = Field(
        description="Where the key's value lives (it must start with `sk-`). `apply` reads it from the reference's "
        "environment variable and registers it; the value is never printed or stored in config."
    )
    profile: Profile | None = Field(
        default=None,
        description="ML routing profile for this key (joins `gateway.routing.ml.key_profiles`; wins over the team's).",
    )
    team: TenantName | None = Field(default=None, description="Team the key belongs to (its limits apply too).")
    user: TenantName | None = Field(default=None, description="User the key belongs to.")


class Tenants(_Strict):
    """Teams, users and virtual keys of the gateway (needs `database.enabled`). Names are the LiteLLM team id, user
    id and key alias. gatekit marks what it creates (`metadata.gatekit_managed`) and deletes only what it marked."""

    teams: dict[TenantName, Team] = Field(default_factory=dict)
    users: dict[TenantName, User] = Field(default_factory=dict)
    keys: dict[TenantName, Key] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.teams or self.users or self.keys)


def tenant_profiles(tenants: Tenants) -> tuple[dict[str, str], dict[str, str]]:
    """(team -> profile, key alias -> profile) declared under `tenants:`."""
    teams = {n: t.profile for n, t in tenants.teams.items() if t.profile}
    return teams, {n: k.profile for n, k in tenants.keys.items() if k.profile}


def tenants_findings(
    tenants: Tenants,
    model_names: set[str],
    database: bool,
    ml_profiles: tuple[Mapping[str, str], Mapping[str, str]] = ({}, {}),
) -> Iterator[tuple[str, str]]:
    """Cross-field rules: names, references between teams/users/keys, model access, the database it needs, routing
    profiles that disagree with `gateway.routing.ml`."""
    import re

    for (section, ml_field), declared, explicit in zip(
        (("teams", "team_profiles"), ("keys", "key_profiles")), tenant_profiles(tenants), ml_profiles, strict=True
    ):
        for name, profile in declared.items():
            if name in explicit and explicit[name] != profile:
                yield (
                    f"tenants.{section}.{name}.profile",
                    f"`{profile}` disagrees with gateway.routing.ml.{ml_field}.{name} (`{explicit[name]}`)",
                )

    if not tenants.empty and not database:
        yield "tenants", "teams, users and keys live in LiteLLM's database: set `database.enabled: true`"
    for section in ("teams", "users", "keys"):
        for name in getattr(tenants, section):
            if not re.match(NAME_PATTERN, name):
                yield f"tenants.{section}.{name}", "names are lower-case letters, digits, `.`, `_`, `-` (max 63)"
    principals: list[tuple[str, Allowance]] = [
        *((f"tenants.teams.{n}", t) for n, t in tenants.teams.items()),
        *((f"tenants.users.{n}", u) for n, u in tenants.users.items()),
        *((f"tenants.keys.{n}", k) for n, k in tenants.keys.items()),
    ]
    for path, principal in principals:
        for i, model in enumerate(principal.models):
            if model not in model_names:
                yield f"{path}.models.{i}", f"unknown model `{model}`; known: {', '.join(sorted(model_names))}"
        if principal.budget_duration and principal.max_budget_usd is None:
            yield f"{path}.budget_duration", "a budget period needs `max_budget_usd`"
    for name, user in tenants.users.items():
        for i, team in enumerate(user.teams):
            if team not in tenants.teams:
                yield f"tenants.users.{name}.teams.{i}", f"unknown team `{team}`"
    for name, key in tenants.keys.items():
        if key.team is not None and key.team not in tenants.teams:
            yield f"tenants.keys.{name}.team", f"unknown team `{key.team}`"
        if key.user is not None and key.user not in tenants.users:
            yield f"tenants.keys.{name}.user", f"unknown user `{key.user}`"
        if key.team and key.user and key.team not in tenants.users[key.user].teams:
            yield f"tenants.keys.{name}.user", f"user `{key.user}` is not a member of team `{key.team}`"
