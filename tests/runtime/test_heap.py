"""The startup heap freeze (gatekit/runtime/heap.py), in a fresh interpreter (never the test process's own heap):
garbage left by the startup is collected first, the survivors are frozen, and a later full collection walks only
what was allocated after the freeze."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import REPO

SCRIPT = textwrap.dedent(
    """
    import gc, json
    from gatekit.runtime.heap import freeze_startup_heap

    class Node:
        def __init__(self): self.me = self  # a reference cycle: only the collector frees it

    gc.disable()  # the startup garbage stays until freeze_startup_heap collects it
    kept = [Node() for _ in range(200_000)]
    for _ in range(1000):
        Node()  # startup garbage: must not be frozen
    tracked_before = len(gc.get_objects())
    frozen = freeze_startup_heap()
    after_freeze = len(gc.get_objects())
    print(json.dumps({"frozen": frozen, "count": gc.get_freeze_count(), "tracked_before": tracked_before,
                      "after_freeze": after_freeze}))
    """
)


def test_the_startup_heap_is_collected_then_frozen_out_of_full_collections() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["frozen"] == got["count"] >= 200_000  # the kept nodes
    assert got["frozen"] <= got["tracked_before"] - 1000  # the startup garbage was collected, not frozen
    assert got["after_freeze"] < 1000  # gc.get_objects() no longer lists the frozen heap: collections skip it
