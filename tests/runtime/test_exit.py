"""The replica's exit is bounded: the exit hooks (the span exporter's final flush, log flushes) run, but no longer
than `DrainTimings.exit_flush_seconds`, so an unreachable collector cannot keep a drained replica alive past its exit
margin (a supervisor reports that as a failed drain, the platform kills it)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

PROGRAM = """
import atexit, logging, sys, time
from pathlib import Path
from gatekit.runtime.server import exit_promptly

logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(message)s")
marker = Path(sys.argv[1])
atexit.register(lambda: time.sleep(600) if sys.argv[2] == "hang" else None)  # runs last (LIFO)
atexit.register(lambda: marker.write_text("flushed"))  # runs first, like a quick log flush
exit_promptly(7, flush_seconds=float(sys.argv[3]))
"""


def _run(tmp_path: Path, mode: str, flush_seconds: float) -> tuple[subprocess.CompletedProcess[str], float, Path]:
    marker = tmp_path / f"marker-{mode}"
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(marker), mode, str(flush_seconds)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return done, time.monotonic() - start, marker


def test_a_hanging_exit_hook_is_cut_at_the_bound_and_said(tmp_path: Path) -> None:
    done, elapsed, marker = _run(tmp_path, "hang", 1)
    assert done.returncode == 7, done.stderr
    assert marker.read_text() == "flushed"  # the hooks before the hanging one ran
    assert "exit hooks unfinished" in done.stderr
    assert elapsed < 120  # the hook sleeps 600 s: an unbounded exit would not return


def test_quick_exit_hooks_all_run_without_a_warning(tmp_path: Path) -> None:
    done, _, marker = _run(tmp_path, "quick", 30)
    assert done.returncode == 7, done.stderr
    assert marker.read_text() == "flushed"
    assert "exit hooks unfinished" not in done.stderr
