"""Start a local HTTP server process, wait until it answers, stop it afterwards: the one launcher behind the
rehearsal's demo provider and the test sessions' gateways (readiness polling, never a sleep; its log on failure)."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Generator, Mapping
from pathlib import Path

import httpx


class LaunchError(RuntimeError):
    """The process exited or did not answer in time; the message carries the end of its log."""


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else "(no log)"


def _ok(status: int) -> bool:
    return status == 200


def wait_answering(
    proc: subprocess.Popen[bytes],
    url: str,
    *,
    what: str,
    timeout: float,
    log: Path | None = None,
    ready: Callable[[int], bool] = _ok,
) -> float:
    """Poll `url` until `ready(status)`; seconds it took. Fails as soon as the process exits."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise LaunchError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if ready(httpx.get(url, timeout=2).status_code):
                return time.monotonic() - start
        time.sleep(0.25)
    raise LaunchError(f"{what} did not answer {url} within {timeout:.0f} s:\n{_tail(log)}")


def stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (a graceful drain), then SIGKILL after `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def launched(
    cmd: list[str],
    url: str,
    *,
    what: str,
    timeout: float,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    ready: Callable[[int], bool] = _ok,
    stop_timeout: float = 30,
) -> Generator[subprocess.Popen[bytes], None, None]:
    """Run `cmd` in its own session (output to `log`, or discarded), yield it once `url` answers, then stop it."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=None if env is None else dict(env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_answering(proc, url, what=what, timeout=timeout, log=log, ready=ready)
        yield proc
    finally:
        stop(proc, stop_timeout)
