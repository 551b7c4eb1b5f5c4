"""The database matrix: management and spend rows, run when both sides have a database (`--database`).

Budget and spend rows come first: LiteLLM writes spend asynchronously (its batch writer), so the spend row polls,
and the earlier a run asks the more reliably the first write cycles have happened. Keys, users and teams are
created on each side and read back through their own captured ids."""

from __future__ import annotations

from gatekit.parity.matrix import READINESS_PROBE, Models, Row, build_matrix, chat_body

MGMT = "Management (PostgreSQL)"
SPEND = "Spend & budgets (PostgreSQL)"
LAST_ACTIVE = ("$.info.last_active",)  # LiteLLM stamps a key's last use in the background
SPEND_POLL_SECONDS = 180.0  # generous: the spend writer flushes in batches and the machine may be loaded


def build_db_matrix(token: str, non_admin: bool = False, models: Models | None = None) -> list[Row]:
    """`non_admin`: also send a management call from the non-admin client address (the runner's `non_admin_source`)."""
    chat_model = (models or Models()).chat
    rows = [
        Row(
            "/health/readiness (database)",
            "Health",
            "GET",
            "/health/readiness",
            auth="none",
            needs_db=True,
            probe_seconds=READINESS_PROBE,
        ),
        Row(
            "/key/generate",
            MGMT,
            "POST",
            "/key/generate",
            {"models": [chat_model], "max_budget": 10.0, "metadata": {"purpose": f"parity {token}"}},
            capture=(("key", "key"), ("key_token", "token")),
            needs_db=True,
        ),
        Row(
            "/key/generate (zero budget)",
            SPEND,
            "POST",
            "/key/generate",
            {"models": [chat_model], "max_budget": 0.0},
            capture=(("budget_key", "key"),),
            needs_db=True,
        ),
        Row(
            "budget exceeded (refusal)",
            SPEND,
            "POST",
            "/v1/chat/completions",
            chat_body(f"parity budget {token}", chat_model),
            auth="{budget_key}",
            needs_db=True,
            note="a chat with a key whose budget is spent is refused before any model is called",
        ),
        Row(
            "/v1/chat/completions (virtual key)",
            SPEND,
            "POST",
            "/v1/chat/completions",
            chat_body(f"parity virtual key {token}", chat_model),
            auth="{key}",
            needs_db=True,
        ),
        Row(
            "/spend/logs (virtual key)",
            SPEND,
            "GET",
            "/spend/logs?api_key={key_token}",
            poll_seconds=SPEND_POLL_SECONDS,
            needs_db=True,
            note="polled until the virtual key's call has its spend row (LiteLLM's batch spend writer)",
        ),
        Row("/global/spend", SPEND, "GET", "/global/spend", needs_db=True),
        Row("/key/info", MGMT, "GET", "/key/info?key={key}", needs_db=True, nullable=LAST_ACTIVE),
        Row(
            "/user/new",
            MGMT,
            "POST",
            "/user/new",
            {"user_email": f"parity-{token}@example.com"},
            capture=(("user_id", "user_id"),),
            needs_db=True,
        ),
        Row("/user/info", MGMT, "GET", "/user/info?user_id={user_id}", needs_db=True),
        Row(
            "/team/new",
            MGMT,
            "POST",
            "/team/new",
            {"team_alias": f"parity-{token}"},
            capture=(("team_id", "team_id"),),
            needs_db=True,
        ),
        Row("/team/info", MGMT, "GET", "/team/info?team_id={team_id}", needs_db=True),
        Row(
            "/model/new",
            MGMT,
            "POST",
            "/model/new",
            {"model_name": f"parity-{token}", "litellm_params": {"model": "openai/demo"}},
            needs_db=True,
            note="the rendered config does not set `store_model_in_db`: both refuse to store a model",
        ),
        Row("/model/info", MGMT, "GET", "/model/info", needs_db=True),
        Row(
            "unknown virtual key",
            MGMT,
            "POST",
            "/v1/chat/completions",
            chat_body(f"parity unknown key {token}", chat_model),
            auth="wrong",
            needs_db=True,
            note="a key that is in neither database",
        ),
        Row(
            "/key/generate (to delete)",
            MGMT,
            "POST",
            "/key/generate",
            {"models": [chat_model], "max_budget": 1.0},
            capture=(("unused_key", "key"),),
            needs_db=True,
        ),
        Row(
            "/key/delete",
            MGMT,
            "POST",
            "/key/delete",
            {"keys": ["{unused_key}"]},
            needs_db=True,
            note="a key never used: the used key's spend may still be queued for LiteLLM's batch writer",
        ),
        Row(
            "/key/info (deleted key)",
            MGMT,
            "GET",
            "/key/info?key={unused_key}",
            needs_db=True,
            nullable=LAST_ACTIVE,
            note="LiteLLM answers from its key cache right after a delete, on both sides",
        ),
    ]
    if non_admin:
        rows.append(
            Row(
                "/key/generate (non-admin client)",
                MGMT,
                "POST",
                "/key/generate",
                {"models": [chat_model], "max_budget": 1.0},
                non_admin=True,
                needs_db=True,
                note="the same call from an address outside gateway.exposure.admin_cidrs",
            )
        )
    return rows


def build_deployment_matrix(token: str, models: Models, non_admin: bool = False) -> list[Row]:
    """A deployment with a database (a rehearsed or real cloud target): the database matrix, then the local matrix's
    rows that need neither LiteLLM's provider-wide default (files, batches) nor a staged fault, nor a database (the
    database matrix has those, and its `unknown virtual key` row replaces the DB-less wrong-key row)."""
    local = [
        r
        for r in build_matrix(token, faults=False, models=models)
        if not (r.needs_db or r.provider_wide or r.name in ("/model/info", "/v1/chat/completions (wrong key)"))
    ]
    return [*build_db_matrix(token, non_admin, models), *local]
