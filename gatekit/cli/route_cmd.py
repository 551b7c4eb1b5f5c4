"""`gatekit route`: decide, eval, train, export-traces, push — the ML routing tools."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from gatekit.cli.options import config_dir_option, load_or_exit, set_option

env_option = click.option("--env", "env_name", envvar="GATEKIT_ENV", default="local", show_default=True)


def _spec(env_name: str, config_dir: Path | None, overrides: tuple[str, ...], strategy: str | None) -> Any:
    from gatekit.routing.spec import spec_from_env

    extra = (f"gateway.routing.ml.strategy={strategy}",) if strategy else ()
    env = load_or_exit(env_name, config_dir, (*overrides, *extra))
    return env, spec_from_env(env)


def _engine(spec: Any) -> Any:
    from gatekit.routing.engine import LOAD_ERRORS, RoutingEngine

    engine = RoutingEngine(spec)
    try:
        engine.load()
    except LOAD_ERRORS as exc:
        raise click.ClickException(f"ml routing `{spec.strategy}` cannot load: {exc}") from None
    return engine


def _stdin_requests() -> Iterator[dict[str, Any]]:
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            yield {"id": row.get("id", n), "prompt": str(row["prompt"])}
        except (ValueError, KeyError, AttributeError):
            raise click.ClickException(f"stdin line {n}: expected a JSON object with `prompt` (and `id`)") from None


@click.group()
def route() -> None:
    """ML routing: decide, evaluate, train routers and export training rows from gateway logs."""


@route.command()
@config_dir_option
@set_option
@env_option
@click.option("--strategy", default=None, help="Override routing.ml.strategy.")
@click.option("--profile", type=click.Choice(["eco", "balanced", "precision"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="JSON lines out (default: a table).")
def decide(config_dir: Path | None, overrides: tuple[str, ...], env_name: str, strategy: str | None,
           profile: str | None, as_json: bool) -> None:  # fmt: skip
    """Route prompts read as JSON lines {"id", "prompt"} on stdin."""
    _, spec = _spec(env_name, config_dir, overrides, strategy)
    engine = _engine(spec)
    for req in _stdin_requests():
        d = engine.decide(req["prompt"], profile)
        out = {"id": req["id"], "model": d.tier, "tier": d.tier, "strategy": d.strategy, "score": round(d.score, 4),
               "latency_ms": round(d.latency_ms, 3)}  # fmt: skip
        if as_json:
            click.echo(json.dumps(out))
        else:
            click.echo(f"{out['id']!s:>10}  {d.tier:<10} score={d.score:.3f}  {d.latency_ms:.2f} ms  ({d.strategy})")


@route.command(name="eval")
@config_dir_option
@set_option
@env_option
@click.option("--data", "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--strategy", default=None, help="Override routing.ml.strategy.")
@click.option("--split", default="held_out", show_default=True, help="Rows of this split; `all` for every row.")
@click.option("--profile", type=click.Choice(["eco", "balanced", "precision"]), default=None)
@click.option("--json", "as_json", is_flag=True)
def eval_cmd(config_dir: Path | None, overrides: tuple[str, ...], env_name: str, data: Path, strategy: str | None,
             split: str, profile: str | None, as_json: bool) -> None:  # fmt: skip
    """Accuracy, cost saving vs always-premium, quality retention and APGR, beside the baselines."""
    from dataclasses import asdict

    from gatekit.routing.dataset import DatasetError, load_labelled, select_split
    from gatekit.routing.encoder import load_encoder
    from gatekit.routing.evaluate import Evaluator, markdown_table

    _, spec = _spec(env_name, config_dir, overrides, strategy)
    try:
        prompts = load_labelled(data, spec.tier_names)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from None
    has_splits = any(p.split != "train" for p in prompts)
    prompts = select_split(prompts, None if split == "all" or not has_splits else split)
    if not prompts:
        raise click.ClickException(f"{data}: no rows in split `{split}`")
    engine = _engine(spec)
    encoder = load_encoder(spec.encoder)
    decisions = [engine.decide(p.prompt, profile) for p in prompts]
    evaluator = Evaluator(spec, prompts, [encoder.token_count(p.prompt) for p in prompts])
    chosen = [spec.tier_names.index(d.tier) for d in decisions]
    router = evaluator.row(f"{spec.strategy} ({decisions[0].profile})", chosen, [d.score for d in decisions])
    rows = [router, *evaluator.baselines(router.strong_share)]
    if as_json:
        click.echo(json.dumps({"rows": [asdict(r) for r in rows], "prompts": len(prompts),
                               "artifact_version": engine.artifact_version}, indent=2))  # fmt: skip
        return
    click.echo(f"{len(prompts)} prompts from {data} (split {split}); artifact {engine.artifact_version}")
    click.echo(markdown_table(rows))


@route.command()
@config_dir_option
@set_option
@env_option
@click.option("--data", "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--strategy", type=click.Choice(["knn", "svm", "mlp", "mf", "elo"]), required=True)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--split", default="train", show_default=True, help="Rows of this split; `all` for every row.")
@click.option("--hparam", "hparams", multiple=True, metavar="NAME=JSON", help="LLMRouter hyper-parameter override.")
def train(config_dir: Path | None, overrides: tuple[str, ...], env_name: str, data: Path, strategy: str, out: Path,
          split: str, hparams: tuple[str, ...]) -> None:  # fmt: skip
    """Train with llmrouter-lib (the `train` extra) and write a safe artifact to --out."""
    from gatekit.routing.dataset import DatasetError, load_labelled, select_split
    from gatekit.routing.train import TrainingUnavailable, train_artifact

    _, spec = _spec(env_name, config_dir, overrides, None)
    try:
        prompts = load_labelled(data, spec.tier_names)
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from None
    has_splits = any(p.split != "train" for p in prompts)
    prompts = select_split(prompts, None if split == "all" or not has_splits else split)
    parsed: dict[str, Any] = {}
    for item in hparams:
        name, _, value = item.partition("=")
        try:
            parsed[name] = json.loads(value)
        except ValueError:
            parsed[name] = value
    try:
        manifest = train_artifact(prompts, spec, strategy, out, parsed)
    except TrainingUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"wrote {strategy} artifact {manifest['version']} to {out} ({len(prompts)} prompts, "
        f"{manifest['parity_with_llmrouter']:.1%} agreement with llmrouter-lib)"
    )


@route.command(name="export-traces")
@config_dir_option
@set_option
@env_option
@click.option("--input", "inputs", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
              required=True, help="JSON lines of LiteLLM StandardLoggingPayload (repeatable).")  # fmt: skip
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_traces(config_dir: Path | None, overrides: tuple[str, ...], env_name: str, inputs: tuple[Path, ...],
                  out: Path) -> None:  # fmt: skip
    """Turn gateway request logs into LLMRouter routing rows (the `--data` of `route train`)."""
    from gatekit.routing.traces import export_rows, read_payloads, tier_lookup

    env = load_or_exit(env_name, config_dir, overrides)
    lookup = tier_lookup(env)
    count = 0
    skipped: dict[str, int] = {}
    with out.open("w") as fh:
        for path in inputs:
            with path.open() as src:
                for row in export_rows(read_payloads(src, skipped), lookup, skipped):
                    fh.write(json.dumps(row) + "\n")
                    count += 1
    reasons = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())) or "none"
    click.echo(f"wrote {count} routing rows to {out}; skipped {sum(skipped.values())} ({reasons})")


@route.command()
@click.argument("artifact_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("uri")
def push(artifact_dir: Path, uri: str) -> None:
    """Verify an artifact and upload it to URI (a directory or s3://bucket/prefix) where gateways hot-reload it."""
    from gatekit.routing.artifact import ArtifactError, parse
    from gatekit.routing.source import DirectorySource, upload_dir

    try:
        artifact = parse(DirectorySource(artifact_dir).fetch())
    except ArtifactError as exc:
        raise click.ClickException(f"refusing to push: {exc}") from None
    upload_dir(artifact_dir, uri)
    click.echo(f"pushed {artifact.strategy} artifact {artifact.version} to {uri}")


@route.command(name="bench")
@click.option("--sample", type=int, default=None, help="At most this many prompts per benchmark (quick runs).")
@click.option("--strategy", "strategies", multiple=True, help="Only these strategies (repeatable).")
@click.option("--svg", "svg_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the quality-vs-premium-share plot here.")  # fmt: skip
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Cache features here (keyed by encoder and data).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True)
def bench_cmd(sample: int | None, strategies: tuple[str, ...], svg_out: Path | None, cache_dir: Path | None,
              as_json: bool) -> None:  # fmt: skip
    """APGR / CPT(50%) / CPT(80%) of every in-process strategy on MMLU, GSM8K and MT-Bench (RouteLLM's outcome data),
    leave-one-benchmark-out, beside random, oracle and a prompt-length baseline."""
    from gatekit.routing import bench
    from gatekit.routing.bench_plot import svg
    from gatekit.routing.encoder import load_encoder
    from gatekit.routing.features import WindowFeaturizer
    from gatekit.routing.outcomes import OutcomeDataError, load_all
    from gatekit.routing.spec import EncoderSettings

    unknown = [s for s in strategies if s not in bench.STRATEGIES]
    if unknown:
        raise click.ClickException(f"unknown strategies {unknown}; one of {', '.join(bench.STRATEGIES)}")
    try:
        data = load_all()
    except OutcomeDataError as exc:
        raise click.ClickException(str(exc)) from None
    featurizer = WindowFeaturizer(load_encoder(EncoderSettings()))
    benches = {name: bench.featurize(bench.sample(rows, sample), featurizer, cache_dir) for name, rows in data.items()}
    results = bench.run(benches, list(strategies) or None)
    if svg_out is not None:
        svg_out.write_text(svg(results))
    if as_json:
        rows = [{"benchmark": r.benchmark, "strategy": r.strategy, "apgr": round(r.apgr, 4), "cpt50": round(r.cpt50, 4),
                 "cpt80": round(r.cpt80, 4), "prompts": len(r.curve.shares) and len(benches[r.benchmark].strong)}
                for r in results]  # fmt: skip
        click.echo(json.dumps({"results": rows, "published": bench.PUBLISHED}, indent=2))
        return
    click.echo(bench.markdown(results))


def _outcome_inputs(sample: int | None, feedback: Path | None, tiers: tuple[str, str]) -> tuple[Any, ...]:
    from gatekit.routing import bench
    from gatekit.routing.encoder import load_encoder
    from gatekit.routing.features import WindowFeaturizer
    from gatekit.routing.feedback import read_pairs
    from gatekit.routing.outcomes import OutcomeDataError, load_all
    from gatekit.routing.spec import EncoderSettings

    try:
        data = load_all()
    except OutcomeDataError as exc:
        raise click.ClickException(str(exc)) from None
    featurizer = WindowFeaturizer(load_encoder(EncoderSettings()))
    benches = {name: bench.featurize(bench.sample(rows, sample), featurizer) for name, rows in data.items()}
    pairs = None
    if feedback is not None:
        with feedback.open(encoding="utf-8") as fh:
            pairs = read_pairs(fh, *tiers)
        skipped = ", ".join(f"{n} {why}" for why, n in pairs.skipped.items()) or "none"
        click.echo(f"feedback {feedback}: {len(pairs.ids)} outcome pairs; skipped: {skipped}")
    return featurizer, benches, pairs


def _tiers(env_name: str, config_dir: Path | None, overrides: tuple[str, ...]) -> tuple[str, str]:
    _, spec = _spec(env_name, config_dir, overrides, None)
    return spec.tier_names[0], spec.tier_names[-1]


@route.command(name="train-outcomes")
@config_dir_option
@set_option
@env_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--feedback", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Outcome records written by POST /gatekit/feedback (route-outcomes.jsonl).")  # fmt: skip
@click.option("--sample", type=int, default=None, help="At most this many prompts per benchmark.")
def train_outcomes(config_dir: Path | None, overrides: tuple[str, ...], env_name: str, out: Path,
                   feedback: Path | None, sample: int | None) -> None:  # fmt: skip
    """Train the default (mlp) router on benchmark outcomes + the training part of the feedback pairs (numpy only)."""
    from gatekit.routing.loop import feedback_bench, train_candidate

    tiers = _tiers(env_name, config_dir, overrides)
    featurizer, benches, pairs = _outcome_inputs(sample, feedback, tiers)
    fb = feedback_bench(pairs, featurizer, heldout=False) if pairs else None
    manifest = train_candidate(benches, fb, tiers, featurizer, out)
    shares = ", ".join(f"{p} {c['premium_share']:.0%}" for p, c in manifest_calibration(out).items())
    click.echo(
        f"wrote mlp artifact {manifest['version']} to {out} ({manifest['training_rows']} rows; profiles: {shares})"
    )


def manifest_calibration(out: Path) -> dict[str, Any]:
    return json.loads((out / "router.json").read_text())["params"]["calibration"]


@route.command(name="promote")
@config_dir_option
@set_option
@env_option
@click.option("--candidate", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--serving", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--feedback", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--sample", type=int, default=None)
@click.option("--dry-run", is_flag=True, help="Shadow-score only; never promote.")
def promote_cmd(config_dir: Path | None, overrides: tuple[str, ...], env_name: str, candidate: Path, serving: Path,
                feedback: Path | None, sample: int | None, dry_run: bool) -> None:  # fmt: skip
    """Shadow-score CANDIDATE beside SERVING on the benchmarks and the held-out feedback; promote iff none regresses."""
    from gatekit.routing.loop import feedback_bench, shadow_then_promote

    tiers = _tiers(env_name, config_dir, overrides)
    featurizer, benches, pairs = _outcome_inputs(sample, feedback, tiers)
    checks = dict(benches)
    held = feedback_bench(pairs, featurizer, heldout=True) if pairs else None
    if held is not None:
        checks["held-out feedback"] = held
    report = shadow_then_promote(candidate, serving, checks, apply=not dry_run)
    for line in report.lines():
        click.echo(line)
    if report.regressions:
        raise SystemExit(1)
