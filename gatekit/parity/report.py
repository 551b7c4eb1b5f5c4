"""The parity matrix as a terminal table and as docs/parity.md."""

from __future__ import annotations

from gatekit.parity.declared import DECLARED
from gatekit.parity.runner import Observation, Result

ADDITIONS = (
    (
        "`auto` model (LLMRouter)",
        "a routed model alias: a trained router picks the economy or premium tier per request",
    ),
    ("`/gatekit/config`, `/gatekit/feedback`", "config version and sync status; routing feedback for router training"),
    ("Response headers", "`x-gatekit-trace-id`, `x-gatekit-config-version`, `x-gatekit-fallback` (tier fallbacks)"),
    (
        "Back-pressure and drain",
        "an in-flight limit answering 429 + Retry-After, and a bounded graceful drain on SIGTERM",
    ),
    ("Config sync / hot reload", "model list and routing reloaded from file, S3 or GCS without a restart"),
    ("DB-less auth guard", "without a database, a missing or wrong key is a 401 (not LiteLLM's 400/500)"),
    (
        "Exposure rule",
        "the management API, docs and UI answer only `gateway.exposure.admin_cidrs`; other clients get 404",
    ),
    ("`gatekit migrate`", "LiteLLM's migrations without Prisma's CLI, as a separate task with a least-privilege role"),
    ("MCP / A2A gateways", "agent and tool gateways configured from the same environment file"),
    (
        "Renderer and targets",
        "one typed environment file rendered to LiteLLM config, AWS CDK, Pulumi, k8s and moat bundles",
    ),
)


def _status(obs: Observation | None) -> str:
    if obs is None:
        return "-"
    return str(obs.status) if obs.status is not None else "ERR"


def _ms(obs: Observation | None) -> str:
    return "-" if obs is None else f"{obs.latency_ms:.0f}"


DB_LESS_NOTE = "DB-less: both answer LiteLLM's own database-not-connected error; with PostgreSQL: the database section"

NOT_OVER_HTTP = (
    ("Redis caching", "the local runs cache in memory; the rehearsed target's replicas cache in Redis (TLS + AUTH)"),
    ("OpenTelemetry export", "not observable over HTTP here (no collector in `local`); the trace id header is"),
    (
        "Routing strategy",
        "both sides run the rendered `router_settings` (simple-shuffle, fallbacks economy -> premium)",
    ),
)


def _detail(result: Result, db_less: bool = False) -> str:
    if db_less and result.row.needs_db and result.verdict == "identical":
        return DB_LESS_NOTE
    if result.declared is not None:
        return f"declared: {result.declared.reason}"
    if result.differences:
        return "; ".join(result.differences[:6]) + (" ..." if len(result.differences) > 6 else "")
    if result.gatekit.error:
        return result.gatekit.error
    return result.row.note


def as_table(results: list[Result]) -> str:
    header = f"{'row':<36} {'gatekit':>7} {'upstream':>8} {'gk ms':>7} {'up ms':>7}  verdict"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.row.name:<36} {_status(r.gatekit):>7} {_status(r.upstream):>8} "
            f"{_ms(r.gatekit):>7} {_ms(r.upstream):>7}  {r.verdict}"
        )
        if r.differences:
            lines.append(f"{'':<36}   {_detail(r)}")
    failed = sum(r.failed for r in results)
    lines.append(
        f"{len(results)} rows, {failed} undeclared difference(s)" if results[0].upstream else f"{len(results)} rows"
    )
    return "\n".join(lines)


def section_table(results: list[Result], db_less: bool) -> list[str]:
    out = [
        "| Group | Row | Request | gatekit | upstream | gatekit ms | upstream ms | Verdict | Notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        name = r.row.name + (" *DB*" if r.row.needs_db else "")
        detail = _detail(r, db_less).replace("|", "\\|")
        path = r.row.path.replace("|", "\\|")
        out.append(
            f"| {r.row.group} | {name} | `{r.row.method} {path}` | {_status(r.gatekit)} | {_status(r.upstream)} "
            f"| {_ms(r.gatekit)} | {_ms(r.upstream)} | {r.verdict} | {detail} |"
        )
    return out


def as_markdown(results: list[Result], section: str = "local", existing: str = "") -> str:
    """The whole document: this run's table replaces its own section; the other sections are kept from `existing`
    (each is the output of its own run of the command), the fixed parts are regenerated."""
    from gatekit.parity.doc_text import SECTIONS, document, read_sections

    if section not in SECTIONS:
        raise ValueError(f"unknown section `{section}` (one of {', '.join(SECTIONS)})")
    sections = read_sections(existing)
    sections[section] = "\n".join(section_table(results, db_less=section == "local"))
    declared = ["| Row | gatekit | upstream | Reason |", "|---|---|---|---|"]
    for d in DECLARED:
        gk = d.gatekit_status if d.gatekit_status is not None else "same"
        up = d.upstream_status if d.upstream_status is not None else "same"
        declared.append(f"| {d.row} | {gk} | {up} | {d.reason} |")
    not_http = ["| Seed row | How it is covered |", "|---|---|", *[f"| {n} | {h} |" for n, h in NOT_OVER_HTTP]]
    additions = ["| Feature | What it does |", "|---|---|", *[f"| {n} | {w} |" for n, w in ADDITIONS]]
    return document(sections, declared, not_http, additions)
