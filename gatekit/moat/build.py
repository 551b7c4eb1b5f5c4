"""`gatekit moat build`: assemble the offline bundle from the same config and the same lock as every target."""

from __future__ import annotations

import json
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gatekit.config import Environment
from gatekit.moat import aws_offline, components, images
from gatekit.moat.components import Component
from gatekit.moat.lock import (
    RUNTIME_EXTRAS,
    build_gatekit_wheel,
    download_wheelhouse,
    export_runtime_requirements,
    write_gatekit_requirement,
)
from gatekit.moat.manifest import write_manifest
from gatekit.moat.offline import collect_tiktoken
from gatekit.moat.platforms import write_variant
from gatekit.moat.signing import Signer, open_signer
from gatekit.render.env import render_environment
from gatekit.render.image_tags import collector_tag
from gatekit.render.litellm import render_litellm_config
from gatekit.render.offline import OFFLINE_ENV, TIKTOKEN_DIR_ENV, offline_litellm_config

BUNDLE_FORMAT = 1


class BundleError(RuntimeError):
    pass


@dataclass
class BuildRequest:
    env: Environment
    root: Path  # the checkout: pyproject.toml, uv.lock, config/, cdk/, moat-mode/, image/
    out: Path
    config_dir: Path
    overrides: Sequence[str] = ()
    sign_key: Path | str | None = None  # a PEM private key, or `kms:<key id/ARN/alias>`
    serial: int | None = None  # monotonic bundle version (default: the build time, seconds since the epoch)
    allow_absent: Sequence[str] = ()  # components that may be absent; any other absent one fails the build


@dataclass
class BuildResult:
    out: Path
    components: dict[str, Component] = field(default_factory=dict)
    wheels: int = 0
    seconds: float = 0.0


class Progress:
    """One line per step on stderr: `[3/12] downloading the wheelhouse … done in 41.2 s`."""

    def __init__(self, total: int, echo: Callable[[str], None]) -> None:
        self.total, self.echo, self.step, self.started = total, echo, 0, time.monotonic()
        self._t = self.started

    def start(self, what: str) -> None:
        self.step += 1
        self._t = time.monotonic()
        self.echo(f"[{self.step}/{self.total}] {what} …")

    def done(self, detail: str) -> None:
        self.echo(f"      {detail} ({time.monotonic() - self._t:.1f} s)")


def _empty_out(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise BundleError(f"{out} exists and is not empty; choose a new directory for the bundle")
    out.mkdir(parents=True, exist_ok=True)


def _write_gateway_config(env: Environment, out: Path) -> list[str]:
    gateway = out / "gateway"
    gateway.mkdir(parents=True, exist_ok=True)
    config = offline_litellm_config(render_litellm_config(env))
    (gateway / "litellm.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    rendered = render_environment(env)
    rendered.plain.update(OFFLINE_ENV)
    (gateway / "gatekit.env").write_text(rendered.dotenv())
    (gateway / "offline.env").write_text("".join(f"{k}={v}\n" for k, v in sorted(OFFLINE_ENV.items())))
    return ["gateway/litellm.yaml", "gateway/gatekit.env", "gateway/offline.env"]


def _copy_config(config_dir: Path, out: Path) -> None:
    shutil.copytree(config_dir, out / "config", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def build_bundle(request: BuildRequest, echo: Callable[[str], None]) -> BuildResult:
    started = time.monotonic()
    env, root, out = request.env, request.root, request.out.resolve()
    if env.target != "moat":
        raise BundleError(f"environment `{env.name}` has target `{env.target}`; a moat bundle needs target `moat`")
    signer = open_signer(request.sign_key) if request.sign_key is not None else None  # fails now, not after minutes
    _empty_out(out)
    result = BuildResult(out)
    progress = Progress(13, echo)

    progress.start("exporting the runtime requirement set from uv.lock (hashes included)")
    requirements = out / "requirements" / "runtime.txt"
    count = export_runtime_requirements(root, requirements)
    progress.done(f"{count} pinned requirements -> requirements/runtime.txt")

    progress.start("starting CDK synth of the isolated-mode stacks in the background")
    synth = components.start_cdk_synth(root, env.name, request.config_dir, request.overrides, out / "iac" / "cdk")
    progress.done("started" if not isinstance(synth, Component) else f"absent: {synth.reason}")

    try:
        _build_rest(request, out, requirements, synth, result, progress, signer)
    except BaseException:
        if isinstance(synth, components.Synth):
            synth.stop()
        raise
    result.seconds = time.monotonic() - started
    return result


def _build_rest(
    request: BuildRequest,
    out: Path,
    requirements: Path,
    synth: components.Synth | Component,
    result: BuildResult,
    progress: Progress,
    signer: Signer | None,
) -> None:
    env, root = request.env, request.root
    progress.start("downloading the wheelhouse (pip download --require-hashes --only-binary=:all:)")
    with tempfile.TemporaryDirectory(prefix="gatekit-wheels-") as tmp:
        # Markers decided for the target (Debian 12's Python 3.11.2), not for this build host's interpreter.
        decided = write_variant(requirements, root / "uv.lock", platform.machine(), Path(tmp) / "runtime.txt")
        wheels = download_wheelhouse(Path(tmp) / "runtime.txt", out / "wheelhouse")
    if sorted(w.name for w in wheels) != sorted(decided.wheels.values()):
        differ = sorted({w.name for w in wheels} ^ set(decided.wheels.values()))
        raise BundleError(f"pip downloaded other wheels than uv.lock decides: {differ}")
    size = sum(w.stat().st_size for w in wheels) / 1e6
    progress.done(f"{len(wheels)} wheels, {size:.0f} MB -> wheelhouse/")

    progress.start("building the gatekit wheel")
    wheel = build_gatekit_wheel(root, out / "wheelhouse")
    write_gatekit_requirement(wheel, out / "requirements" / "gatekit.txt")
    result.wheels = len(wheels) + 1
    progress.done(f"{wheel.name} -> wheelhouse/, requirements/gatekit.txt")

    progress.start("rendering the gateway config with every outbound fetch switched off")
    _copy_config(request.config_dir, out)
    files = _write_gateway_config(env, out)
    progress.done(f"config/ and {', '.join(files)}")

    progress.start("collecting tiktoken encodings and the model cost map from the locked LiteLLM wheel")
    litellm_wheel = next((w for w in wheels if w.name.startswith("litellm-") and "proxy" not in w.name), None)
    if litellm_wheel is None:
        raise BundleError("the wheelhouse has no litellm wheel")
    tiktoken = collect_tiktoken(litellm_wheel, out / "tiktoken")
    result.components["tiktoken"] = Component(
        "tiktoken",
        bool(tiktoken.shipped),
        sorted({f"tiktoken/{k}" for v in tiktoken.shipped.values() for k in v.split(",")}),
        details={"env": TIKTOKEN_DIR_ENV, "encodings": tiktoken.shipped, "missing": tiktoken.missing},
    )
    result.components["cost_map"] = components.cost_map(litellm_wheel, out / "cost-map", out)
    progress.done(f"encodings {', '.join(sorted(tiktoken.shipped))}; not available: {', '.join(tiktoken.missing)}")

    progress.start("router artifacts and the offline encoder")
    result.components["routing"] = components.routing_artifacts(env, out / "wheelhouse", out / "routing", out)
    progress.done(_summary(result.components["routing"]))

    progress.start("Kubernetes manifests for the isolated cluster")
    result.components["k8s"] = components.render_k8s(env, out / "iac" / "k8s" / "gateway.yaml", out)
    progress.done(_summary(result.components["k8s"]))

    progress.start("waiting for CDK synth")
    result.components["cdk"] = components.finish_cdk_synth(synth, out, out / "iac" / "cdk")
    progress.done(_summary(result.components["cdk"]))

    progress.start("pinned AWS CDK CLI (npm tarball, lock integrity) and its bootstrap template")
    result.components["cdk_cli"] = aws_offline.cdk_cli(root, out)
    progress.done(_summary(result.components["cdk_cli"]))

    progress.start("image archives (gateway: scripts/image-build.sh; the ADOT collector: mirrored)")
    result.components["gateway_image"] = images.gateway_archive(root, out)
    collector = env.aws.collector_image if env.aws is not None else None
    result.components["collector_image"] = (
        images.collector_archive(root, out, collector)
        if collector
        else Component("collector_image", False, reason="the environment has no aws.collector_image")
    )
    tags: dict[str, str] = {}
    if result.components["gateway_image"].present:
        tags[images.GATEWAY_ARCHIVE] = _wheel_version(wheel.name)  # the tag the gateway stack runs (cdk/images.py)
    if collector and result.components["collector_image"].present:
        tags[images.COLLECTOR_ARCHIVE] = collector_tag(collector)
    result.components["image_publish"] = images.write_image_index(out, tags)
    progress.done(
        f"gateway {_summary(result.components['gateway_image'])}; "
        f"collector {_summary(result.components['collector_image'])}; {images.IMAGE_INDEX}: {len(tags)} image(s)"
    )

    progress.start("CycloneDX SBOM of the locked runtime set (uv export --format cyclonedx1.5)")
    result.components["sbom"] = components.sbom(root, out / "sbom" / "runtime.cdx.json", out)
    progress.done(_summary(result.components["sbom"]))

    progress.start("installer, bundle.json and MANIFEST")
    _write_installer(root, out)
    _write_metadata(request, result, wheel.name)
    write_manifest(out, signer)
    progress.done("MANIFEST" + (f" signed by {signer.description}" if signer else " (unsigned)"))


def _wheel_version(wheel_name: str) -> str:
    """`gatekit-0.1.0-py3-none-any.whl` -> `0.1.0` (the gatekit version: the gateway image's tag)."""
    return wheel_name.split("-")[1]


def _summary(component: Component) -> str:
    if component.present:
        return f"present: {len(component.paths)} file(s)"
    return f"absent: {component.reason}"


def _write_installer(root: Path, out: Path) -> None:
    template = root / "moat-mode" / "install"
    if not template.is_file():
        raise BundleError(f"installer template {template} is missing")
    shutil.copy2(template, out / "install")
    (out / "install").chmod(0o755)
    if (out / images.IMAGE_INDEX).is_file():  # the image publisher goes with the archives it pushes
        shutil.copy2(root / "moat-mode" / images.PUBLISHER, out / images.PUBLISHER)
        (out / images.PUBLISHER).chmod(0o755)
    readme = root / "moat-mode" / "README.md"
    if readme.is_file():
        shutil.copy2(readme, out / "README.md")


def _write_metadata(request: BuildRequest, result: BuildResult, gatekit_wheel: str) -> None:
    env = request.env
    metadata = {
        "format": BUNDLE_FORMAT,
        # Monotonic: the installer refuses a bundle whose serial is lower than the installed one (no downgrade).
        "serial": request.serial if request.serial is not None else int(time.time()),
        "gatekit_wheel": gatekit_wheel,
        "environment": env.name,
        "target": env.target,
        "overrides": list(request.overrides),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "platform": f"{platform.system().lower()}-{platform.machine()}",
        "runtime_extras": list(RUNTIME_EXTRAS),
        "offline_env": OFFLINE_ENV,
        "components": {name: c.record() for name, c in sorted(result.components.items())},
    }
    (request.out / "bundle.json").write_text(json.dumps(metadata, indent=2, sort_keys=False) + "\n")
