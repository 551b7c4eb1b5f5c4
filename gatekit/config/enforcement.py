"""Say what is not enforced: limits and budgets the config sets where nothing would enforce them.

`gatekit config validate` prints these as warnings; `--fail-on-unenforced` makes them errors. They are not
validation errors by default because the shipped base sets key defaults every environment inherits, and `local` runs
DB-less on purpose: the point is that nobody believes a limit that does nothing."""

from __future__ import annotations

from gatekit.config.environment import Environment

Warning_ = tuple[str, str]


def unenforced(env: Environment) -> list[Warning_]:
    gw = env.gateway
    has_db = env.database.enabled or env.database.url is not None
    has_redis = env.cache.enabled or env.cache.url is not None
    out: list[Warning_] = []
    if not has_db:
        for name, value in gw.limits.default_key.model_dump(exclude_none=True).items():
            out.append(
                (
                    f"gateway.limits.default_key.{name}",
                    f"{name}={value} applies to virtual keys, which need a database (database.enabled or "
                    "database.url); DB-less, only the master key exists and nothing enforces it",
                )
            )
        if gw.limits.max_budget_usd is not None:
            out.append(
                (
                    "gateway.limits.max_budget_usd",
                    "the proxy-wide budget needs spend tracking, which needs a database; DB-less it is not enforced",
                )
            )
        for field in ("team_profiles", "key_profiles"):
            if getattr(gw.routing.ml, field):
                out.append(
                    (
                        f"gateway.routing.ml.{field}",
                        "teams and virtual-key aliases exist only with a database; DB-less these never match",
                    )
                )
    replicas = env.compute.replicas.max
    tenants = env.tenants
    principals = [*tenants.teams.values(), *tenants.users.values(), *tenants.keys.values()]
    if has_db and replicas > 1 and not has_redis and any(p.rpm or p.tpm for p in principals):
        out.append(
            (
                "tenants",
                f"rpm/tpm are counted per replica without a shared Redis (cache.enabled or cache.url): with up to "
                f"{replicas} replicas a team, user or key gets up to {replicas}x its limit",
            )
        )
    per_key = gw.limits.default_key.rpm is not None or gw.limits.default_key.tpm is not None
    if has_db and per_key and replicas > 1 and not has_redis:
        out.append(
            (
                "gateway.limits.default_key",
                f"rpm/tpm are counted per replica without a shared Redis (cache.enabled or cache.url): with up to "
                f"{replicas} replicas a key gets up to {replicas}x its limit",
            )
        )
    return out
