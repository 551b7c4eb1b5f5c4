"""Keep the garbage collector off the heap every worker builds at startup.

A worker that imported LiteLLM holds ~1.4 million container objects (modules, classes, pydantic schemas, the model
cost map). CPython's full (generation 2) collection walks all of them, ~0.5-0.7 s of CPU each time on this machine,
and it runs whenever the objects that survived since the last one reach a quarter of that heap — under load, every
few hundred requests, in each worker. None of those startup objects ever becomes garbage while the worker serves.

Once LiteLLM and gatekit have started (before the worker reports ready), `freeze_startup_heap` collects what the
startup left behind and moves every surviving object to the permanent generation (`gc.freeze`): later collections
walk only what was allocated while serving. The cost is that a startup object which becomes part of unreachable
cyclic garbage later (a router replaced by a hot reload) is never collected: bounded by one startup config's objects
per worker lifetime."""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger("gatekit.runtime")


def freeze_startup_heap() -> int:
    """Collect, then freeze every surviving object. The number of objects frozen."""
    began = time.process_time()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "startup heap frozen",
        extra={"frozen_objects": frozen, "cpu_ms": round(1000 * (time.process_time() - began), 1)},
    )
    return frozen
