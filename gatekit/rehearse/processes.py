"""Start one process of a `ProcessSpec` the way its platform would: the image's argv (tini dropped: the runner is
the init and delivers SIGTERM itself), the image's ENV under the platform's env and injected secrets, as the spec's
non-root uid/gid, with only the declared writable paths writable (each a fresh directory owned by that uid, mapped
into a per-replica sandbox; every other path the process sees is root-owned), and nothing inherited from this
process's environment."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from gatekit.rehearse.image import IMAGE_VENV, TINI, ImageFacts
from gatekit.rehearse.spec import ProcessSpec
from gatekit.rehearse.venv import GatewayVenv


class LaunchError(RuntimeError):
    pass


@dataclass
class Sandbox:
    """The writable volumes of one replica: container path -> host directory."""

    root: Path
    volumes: dict[str, Path] = field(default_factory=dict)

    def remap(self, value: str) -> str:
        for container_path in sorted(self.volumes, key=len, reverse=True):
            if value == container_path or value.startswith(container_path.rstrip("/") + "/"):
                return str(self.volumes[container_path]) + value[len(container_path) :]
        return value


def make_sandbox(root: Path, spec: ProcessSpec) -> Sandbox:
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    sandbox = Sandbox(root)
    for path in spec.writable_paths:
        host = root / "volumes" / path.strip("/").replace("/", "_")
        host.mkdir(parents=True, exist_ok=True)
        os.chown(host, spec.uid, spec.gid)
        os.chmod(host, 0o700)
        sandbox.volumes[path] = host
    if spec.writable_paths:
        os.chmod(root / "volumes", 0o755)
    return sandbox


def host_argv(argv: tuple[str, ...], venv: GatewayVenv) -> list[str]:
    """The image's argv on this machine: tini dropped, image venv paths mapped onto the rehearsal venv."""
    out = list(argv)
    if out and out[0] == TINI:
        out = out[2:] if len(out) > 1 and out[1] == "--" else out[1:]
    if not out:
        raise LaunchError(f"empty argv after the init process: {argv}")
    head = out[0]
    if head.startswith(IMAGE_VENV + "/bin/"):
        mapped = venv.bin / head.removeprefix(IMAGE_VENV + "/bin/")
    elif "/" not in head:
        mapped = venv.bin / head
    else:
        raise LaunchError(f"`{head}` is not a program of the image's venv; the rehearsal cannot run it")
    if not mapped.exists():
        raise LaunchError(f"`{head}` does not exist in the image (looked for {mapped})")
    return [str(mapped), *out[1:]]


def process_env(
    spec: ProcessSpec,
    image: ImageFacts,
    sandbox: Sandbox,
    secrets: dict[str, str],
    overlay: dict[str, str],
    venv: GatewayVenv,
) -> dict[str, str]:
    """Image ENV < platform env < injected secrets < rehearsal overlay (service endpoints, trust, stand-ins)."""
    env = {k: sandbox.remap(v) for k, v in image.env.items()}
    env["PATH"] = f"{venv.bin}:/usr/bin:/bin"
    env.update({k: sandbox.remap(v) for k, v in spec.env.items()})
    env.update(secrets)
    env.update(overlay)
    tmp = sandbox.volumes.get("/tmp")
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    return env


@dataclass
class Running:
    spec: ProcessSpec
    index: int
    proc: subprocess.Popen[bytes]
    log: Path
    port: int | None = None
    env: dict[str, str] = field(default_factory=dict)  # what the process was started with (a comparison server's base)

    @property
    def name(self) -> str:
        return f"{self.spec.name}-{self.index}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)


def launch(
    spec: ProcessSpec,
    index: int,
    *,
    venv: GatewayVenv,
    image: ImageFacts,
    workdir: Path,
    secrets: dict[str, str],
    overlay: dict[str, str],
    port: int | None = None,
) -> Running:
    sandbox = make_sandbox(workdir / f"{spec.name}-{index}", spec)
    argv = host_argv(spec.argv, venv)
    if port is not None:
        argv += ["--host", "127.0.0.1", "--port", str(port)]  # each replica is its own host on a platform
    env = process_env(spec, image, sandbox, secrets, overlay, venv)
    cwd = Path(sandbox.remap(image.workdir))
    if not cwd.is_dir():
        cwd = sandbox.root
    log = workdir / f"{spec.name}-{index}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=spec.uid,
            group=spec.gid,
            extra_groups=[],
        )
    return Running(spec, index, proc, log, port, env)
