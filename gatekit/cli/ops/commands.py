"""`gatekit ops`: every operation an on-call engineer performs on a deployed AWS environment (boto3). Destructive
operations print exactly what they would do unless confirmed with --yes. Runbooks (runbooks/*.md) are built from
these commands and executed by the test suite."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gatekit.cli.ops.common import (
    GETTER_NAMES,
    echo,
    env_options,
    handle_errors,
    key_option,
    open_deployment,
    replica_option,
    yes_option,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def ops() -> None:
    """Operate a deployed environment: status, push-config, rotate-secret, scale, drain, rollback, failover-db,
    restore-db, failover-cache, flush-cache, spend, triage. Runbooks: runbooks/*.md."""


@ops.command()
@env_options
@click.option("--get", "get", type=click.Choice(GETTER_NAMES), default=None, help="Print one value (for scripts).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--replicas", "with_replicas", is_flag=True, help="Also ask every replica which config it serves.")
@replica_option
@key_option
@handle_errors
def status(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    get: str | None,
    as_json: bool,
    with_replicas: bool,
    replicas: tuple[str, ...],
    key: str | None,
) -> None:
    """Stacks, service and tasks, config object, database, cache, autoscaling (read-only)."""
    from gatekit.ops import status as st
    from gatekit.ops.secrets_ops import master_key

    deployment = open_deployment(env_name, config_dir, overrides)
    if get:
        click.echo(st.GETTERS[get](deployment))
        return
    want_replicas = with_replicas or bool(replicas)
    result = st.collect(deployment, (lambda: master_key(deployment, key)) if want_replicas else None, replicas)
    click.echo(json.dumps(result, indent=2, default=str) if as_json else st.render(result))


@ops.command("push-config")
@env_options
@replica_option
@key_option
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for every replica.")
@click.option("--dry-run", is_flag=True, help="Validate, render and show what changes; upload nothing.")
@handle_errors
def push_config(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    replicas: tuple[str, ...],
    key: str | None,
    timeout: float,
    dry_run: bool,
) -> None:
    """Validate the environment, upload it to the config bucket, wait until every replica serves it (exit 2 and
    the names of the replicas that did not converge on timeout)."""
    from gatekit.ops.push_config import push_config as push
    from gatekit.ops.secrets_ops import master_key

    deployment = open_deployment(env_name, config_dir, overrides)
    code = push(deployment, lambda: master_key(deployment, key), replicas, timeout, dry_run, echo)
    if code:
        raise SystemExit(code)


@ops.command("rotate-secret")
@env_options
@click.option("--secret", "name", required=True, help="master-key, a provider key's secret name, or db-credentials.")
@click.option("--value-from-env", default=None, metavar="VAR", help="Take the new value from this variable.")
@click.option("--no-redeploy", is_flag=True, help="Only store the new value (tasks read it at their next start).")
@click.option("--wait-timeout", default=900.0, show_default=True, help="Seconds to wait for the ECS deployment.")
@yes_option
@handle_errors
def rotate_secret(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    name: str,
    value_from_env: str | None,
    no_redeploy: bool,
    wait_timeout: float,
    confirmed: bool,
) -> None:
    """Store a new secret value (Secrets Manager) and roll the service so every task reads it; db-credentials
    rotates the RDS-managed admin password."""
    from gatekit.ops.secrets_ops import plan_rotation

    deployment = open_deployment(env_name, config_dir, overrides)
    plan_rotation(deployment, name, value_from_env, not no_redeploy, wait_timeout).execute(confirmed, echo)


@ops.command()
@env_options
@click.option("--desired", type=click.IntRange(min=0), default=None, help="Desired task count now.")
@click.option("--min", "minimum", type=click.IntRange(min=0), default=None, help="Autoscaling minimum.")
@click.option("--max", "maximum", type=click.IntRange(min=0), default=None, help="Autoscaling maximum.")
@click.option("--cpu-target", type=click.FloatRange(5, 95), default=None, help="Target CPU percent.")
@click.option("--requests-per-target", type=click.FloatRange(min=1), default=None, help="ALB requests per target.")
@click.option("--from-config", is_flag=True, help="Reset everything to the environment's config (compute.*).")
@yes_option
@handle_errors
def scale(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    desired: int | None,
    minimum: int | None,
    maximum: int | None,
    cpu_target: float | None,
    requests_per_target: float | None,
    from_config: bool,
    confirmed: bool,
) -> None:
    """Scale out/in and tune autoscaling. Scaling to zero is a dry run unless --yes."""
    from gatekit.ops.ecs_ops import from_config as configured
    from gatekit.ops.ecs_ops import plan_scale

    deployment = open_deployment(env_name, config_dir, overrides)
    if from_config:
        plan, destructive = plan_scale(deployment, **configured(deployment))
    else:
        plan, destructive = plan_scale(deployment, desired, minimum, maximum, cpu_target, requests_per_target)
    plan.execute(confirmed or not destructive, echo)


@ops.command()
@env_options
@click.option("--task", "task_id", default=None, help="Task id (default: the oldest running task).")
@click.option("--no-wait", is_flag=True, help="Do not wait for the replacement.")
@click.option("--wait-timeout", default=600.0, show_default=True)
@yes_option
@handle_errors
def drain(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    task_id: str | None,
    no_wait: bool,
    wait_timeout: float,
    confirmed: bool,
) -> None:
    """Drain one task (deregister, SIGTERM, in-flight requests finish) and let the service replace it."""
    from gatekit.ops.ecs_ops import plan_drain

    deployment = open_deployment(env_name, config_dir, overrides)
    plan_drain(deployment, task_id, wait_timeout, not no_wait).execute(confirmed, echo)


@ops.command()
@env_options
@click.option("--service", "what", flag_value="service", help="Previous task definition revision (image, settings).")
@click.option("--config", "what", flag_value="config", help="Previous config object version (hot reload).")
@click.option("--secret", "secret_name", default=None, help="Previous value of this secret (undo a rotation).")
@click.option("--to", default=None, help="Revision (service) or S3 object version id (config); default: previous.")
@replica_option
@key_option
@click.option("--timeout", default=600.0, show_default=True)
@yes_option
@handle_errors
def rollback(
    env_name: str,
    config_dir: Path | None,
    overrides: tuple[str, ...],
    what: str | None,
    secret_name: str | None,
    to: str | None,
    replicas: tuple[str, ...],
    key: str | None,
    timeout: float,
    confirmed: bool,
) -> None:
    """Roll back the service, the config or a secret to its previous version."""
    from gatekit.ops.errors import OpsError

    if (what is None) == (secret_name is None):
        raise OpsError("choose one of --service, --config or --secret NAME")
    deployment = open_deployment(env_name, config_dir, overrides)
    if secret_name:
        from gatekit.ops.secrets_ops import plan_secret_rollback

        plan = plan_secret_rollback(deployment, secret_name, True, timeout)
    elif what == "service":
        from gatekit.ops.ecs_ops import plan_service_rollback

        plan = plan_service_rollback(deployment, to, timeout)
    else:
        from gatekit.ops.config_rollback import plan_config_rollback
        from gatekit.ops.secrets_ops import master_key

        plan = plan_config_rollback(deployment, to, replicas, lambda: master_key(deployment, key), timeout, echo)
    plan.execute(confirmed, echo)


def _register_data_commands() -> None:
    from gatekit.cli.ops.data import DATA_COMMANDS

    for command in DATA_COMMANDS:
        ops.add_command(command)


_register_data_commands()


@ops.command("dashboard-render")
@click.option(
    "--dashboard", type=click.Path(exists=True, path_type=Path), default=Path("docs/grafana/gatekit-gateway.json")
)
@click.option("--url", default=None, help="Gateway base URL to scrape (/metrics) while traffic flows.")
@click.option("--scrapes", "count", type=int, default=7, show_default=True, help="Number of scrapes.")
@click.option("--interval", type=float, default=10.0, show_default=True, help="Seconds between scrapes.")
@click.option("--from-scrapes", type=click.Path(exists=True, path_type=Path), help="Render recorded scrapes (JSON).")
@click.option(
    "--save-scrapes",
    type=click.Path(path_type=Path),
    help="Write the scrapes taken (families the dashboard reads) to this JSON file.",
)
@click.option("--allow-empty", multiple=True, help="Title of a panel allowed to get no series (named in the caption).")
@click.option("--caption", default="", help="Caption printed under the title (how the traffic was made).")
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("docs/img/grafana-dashboard.svg"), show_default=True
)
def dashboard_render(
    dashboard: Path,
    url: str | None,
    count: int,
    interval: float,
    from_scrapes: Path | None,
    save_scrapes: Path | None,
    allow_empty: tuple[str, ...],
    caption: str,
    out: Path,
) -> None:
    """Render the Grafana dashboard JSON to an SVG from real /metrics scrapes (gatekit's renderer, not Grafana's).
    Fails, writing nothing, when a panel's PromQL is outside the supported subset or a panel gets no series."""
    from datetime import UTC, datetime

    from gatekit.ops import dashboard_render as dr

    if (url is None) == (from_scrapes is None):
        raise click.UsageError("give exactly one of --url and --from-scrapes")
    recorded = json.loads(from_scrapes.read_text()) if from_scrapes else dr.record_scrapes(str(url), count, interval)
    if save_scrapes:
        dash = json.loads(dashboard.read_text())
        trimmed = [{"at": r["at"], "text": dr.trim_to_dashboard(dash, r["text"])} for r in recorded]
        save_scrapes.write_text(json.dumps(trimmed, indent=1) + "\n")
    start = datetime.fromtimestamp(recorded[0]["at"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    stamp = f"{len(recorded)} scrapes of /metrics from {start}, over {recorded[-1]['at'] - recorded[0]['at']:.0f} s"
    caption = f"Rendered by gatekit ops dashboard-render (not Grafana) from {stamp}.\n{caption}".strip()
    if allow_empty:
        caption += f"\nNo data in this traffic (allowed by --allow-empty): {', '.join(allow_empty)}."
    try:
        svg, empty = dr.render_recorded(json.loads(dashboard.read_text()), recorded, caption)
    except dr.UnsupportedExpression as exc:
        raise click.ClickException(str(exc)) from exc
    if empty := [t for t in empty if t not in allow_empty]:
        raise click.ClickException(f"panels with no series (metric renamed or not emitted by this traffic): {empty}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg)
    echo(f"wrote {out} ({len(recorded)} scrapes)")
