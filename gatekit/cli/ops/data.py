"""`gatekit ops` subcommands for data and diagnosis: failover-db, restore-db, failover-cache, flush-cache, spend,
triage (registered on the `ops` group by gatekit/cli/ops/commands.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from gatekit.cli.ops.common import echo, env_options, handle_errors, key_option, open_deployment, url_option, yes_option


@click.command("failover-db")
@env_options
@click.option("--to", "target", default=None, help="Reader instance to promote (default: Aurora chooses).")
@click.option("--timeout", default=600.0, show_default=True)
@yes_option
@handle_errors
def failover_db(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    target: str | None,
    timeout: float,
    confirmed: bool,
) -> None:
    """Promote an Aurora reader to writer (rds:FailoverDBCluster) and wait for the new writer."""
    from gatekit.ops.db import plan_failover

    plan_failover(open_deployment(env_name, config_dir, overrides), target, timeout).execute(confirmed, echo)


@click.command("restore-db")
@env_options
@click.option("--snapshot", default=None, help="Cluster snapshot identifier to restore.")
@click.option("--to-time", type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]), default=None)
@click.option("--latest", is_flag=True, help="Point-in-time restore to the latest restorable time.")
@click.option(
    "--new-cluster-id", default=None, help="Identifier of the new cluster (default: <source>-restore-<time>)."
)
@click.option("--timeout", default=3600.0, show_default=True)
@yes_option
@handle_errors
def restore_db(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    snapshot: str | None,
    to_time: datetime | None,
    latest: bool,
    new_cluster_id: str | None,
    timeout: float,
    confirmed: bool,
) -> None:
    """Restore the database from a snapshot or a point in time into a NEW cluster (the live one is untouched)."""
    from gatekit.ops.db import plan_restore

    deployment = open_deployment(env_name, config_dir, overrides)
    when = to_time.replace(tzinfo=UTC) if to_time else None
    plan = plan_restore(deployment, snapshot, when, latest, new_cluster_id, timeout)
    results = plan.execute(confirmed, echo)
    if results:
        echo(f"restored cluster endpoint: {results[-1]}")


@click.command("failover-cache")
@env_options
@click.option("--node-group", default="0001", show_default=True)
@click.option("--timeout", default=900.0, show_default=True)
@yes_option
@handle_errors
def failover_cache(
    env_name: str, config_dir: Path | None, overrides: tuple[str, ...], node_group: str, timeout: float, confirmed: bool
) -> None:
    """Promote a cache replica (elasticache:TestFailover) and wait for the new primary."""
    from gatekit.ops.cache import plan_cache_failover

    plan_cache_failover(open_deployment(env_name, config_dir, overrides), node_group, timeout).execute(confirmed, echo)


@click.command("flush-cache")
@env_options
@url_option
@key_option
@yes_option
@handle_errors
def flush_cache(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    url: str | None,
    key: str | None,
    confirmed: bool,
) -> None:
    """Empty the shared response cache (LiteLLM POST /cache/flushall through the gateway)."""
    from gatekit.ops.gateway_api import GatewayApi
    from gatekit.ops.gateway_api import flush_cache as flush
    from gatekit.ops.plan import Plan
    from gatekit.ops.secrets_ops import master_key

    deployment = open_deployment(env_name, config_dir, overrides)
    gateway = url or deployment.gateway_url()
    plan = Plan(f"flush the response cache of `{deployment.env.name}`")
    plan.add(
        f"POST {gateway}/cache/flushall (FLUSHALL on the shared cache: every replica starts cold)",
        lambda: flush(GatewayApi(gateway, master_key(deployment, key))),
    )
    plan.execute(confirmed, echo)


@click.command()
@env_options
@url_option
@key_option
@click.option("--start", default=None, help="YYYY-MM-DD (default: 30 days ago).")
@click.option("--end", default=None, help="YYYY-MM-DD (default: today).")
@click.option("--group-by", type=click.Choice(["team", "customer", "api_key"]), default="team", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def spend(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    url: str | None,
    key: str | None,
    start: str | None,
    end: str | None,
    group_by: str,
    as_json: bool,
) -> None:
    """Spend per team, customer or key and model (LiteLLM /global/spend/report; needs the database)."""
    from gatekit.ops.errors import OpsError
    from gatekit.ops.gateway_api import GatewayApi, spend_report, spend_table, spend_totals
    from gatekit.ops.secrets_ops import master_key

    deployment = open_deployment(env_name, config_dir, overrides)
    if not deployment.env.database.enabled:
        raise OpsError(
            f"environment `{env_name}` runs DB-less (database.enabled: false): LiteLLM records no spend without "
            "its database. Enable database in config and deploy to get spend reports"
        )
    today = date.today()
    start = start or (today - timedelta(days=30)).isoformat()
    end = end or today.isoformat()
    api = GatewayApi(url or deployment.gateway_url(), master_key(deployment, key))
    totals = spend_totals(spend_report(api, start, end, group_by), group_by)
    click.echo(
        json.dumps(totals, indent=2) if as_json else f"spend {start} .. {end} by {group_by}\n{spend_table(totals)}"
    )


@click.command()
@env_options
@click.option("--symptom", type=click.Choice(["latency", "5xx", "shedding", "routing"]), required=True)
@click.option("--since", default=60, show_default=True, type=click.IntRange(min=1), help="Minutes to look back.")
@click.option("--source", type=click.Choice(["logs", "xray", "both"]), default="both", show_default=True)
@click.option("--show-queries", is_flag=True, help="Print the queries only (paste into the console).")
@click.option("--timeout", default=120.0, show_default=True)
@handle_errors
def triage(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    symptom: str,
    source: str,
    since: int,
    show_queries: bool,
    timeout: float,
) -> None:
    """Run the CloudWatch Logs Insights query and the X-Ray trace filter for a symptom."""
    from gatekit.ops import triage as tr

    chosen = tr.SYMPTOMS[symptom]
    deployment = open_deployment(env_name, config_dir, overrides)
    expression = chosen.xray_filter.format(service=tr.service_name(deployment))
    echo(f"# {chosen.description}")
    echo(
        f"# Logs Insights ({deployment.log_group() if not show_queries else 'gateway log group'}):\n{chosen.logs_query}"
    )
    echo(f"# X-Ray filter expression:\n{expression}")
    if show_queries:
        return
    if source in ("logs", "both"):
        rows = tr.run_logs_query(deployment, chosen, timedelta(minutes=since), timeout)
        echo(f"# {len(rows)} log row(s) in the last {since} min")
        for row in rows:
            echo("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
    if source == "logs":
        return
    traces = tr.run_xray(deployment, chosen, timedelta(minutes=since))
    echo(f"# {len(traces)} matching trace(s)")
    for summary in traces[:20]:
        echo(f"  {summary.get('Id')}  {summary.get('ResponseTime')} s  fault={summary.get('HasFault')}")


@click.command()
@env_options
@url_option
@key_option
@click.option("--json", "as_json", is_flag=True)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds per request.")
@handle_errors
def verify(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    url: str | None,
    key: str | None,
    as_json: bool,
    timeout: float,
) -> None:
    """`gatekit validate` against the deployment: its GatewayUrl, with the master key from Secrets Manager (never
    printed). Exit 1 when a gate fails."""
    from gatekit.ops.secrets_ops import master_key
    from gatekit.runtime import gates

    deployment = open_deployment(env_name, config_dir, overrides)
    gateway = url or deployment.gateway_url()
    results = gates.run_gates(gateway, master_key(deployment, key), timeout)
    click.echo(gates.as_json(results) if as_json else f"{gateway}\n{gates.as_table(results)}")
    if any(r.failed for r in results):
        raise SystemExit(1)


DATA_COMMANDS = [verify, failover_db, restore_db, failover_cache, flush_cache, spend, triage]
