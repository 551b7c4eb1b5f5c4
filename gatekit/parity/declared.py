"""Declared differences: where gatekit answers differently from vanilla LiteLLM on purpose, each with its reason.

A declaration matches only the exact difference it names (the status pair and the shape paths only gatekit or only
upstream has); anything else on the same row is still an undeclared difference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekit.parity.runner import Observation


@dataclass(frozen=True)
class Declared:
    row: str
    reason: str
    gatekit_status: int | None = None  # None: the status must be the same on both sides
    upstream_status: int | None = None
    shape_may_differ: bool = False  # the bodies are different documents (e.g. gatekit's own error vs LiteLLM's)
    gatekit_only_paths: tuple[str, ...] = ()  # shape paths gatekit adds
    headers: tuple[str, ...] = ()  # headers whose presence may differ
    gatekit_only_ids: tuple[str, ...] = ()  # listing ids (e.g. models) only gatekit lists


DB_LESS_GUARD = (
    "gatekit's DB-less auth guard (gatekit/runtime/auth_guard.py): without a database only the master key is valid, "
    "so gatekit answers a missing or wrong key with 401 itself, before LiteLLM's database code path"
)

DECLARED: tuple[Declared, ...] = (
    Declared(
        "/v1/models",
        "gatekit lists the `auto` alias (LLMRouter routing, gatekit/runtime/surface.py): it is served by the routing "
        "callback rather than a model_list entry, so vanilla LiteLLM routes it (see the `auto model` row) but does "
        "not list it",
        gatekit_only_ids=("auto",),
    ),
    Declared(
        "logging: call id header",
        "gatekit additions: `x-gatekit-trace-id` (the request's trace, for log/trace correlation) and "
        "`x-gatekit-config-version` (which config answered); LiteLLM's own call/model id headers are the same",
        headers=("x-gatekit-trace-id", "x-gatekit-config-version"),
    ),
    Declared(
        "/v1/models (no key)",
        DB_LESS_GUARD + "; same 401, but gatekit's error object has no `param` field",
        shape_may_differ=True,
    ),
    Declared(
        "/v1/chat/completions (wrong key)",
        DB_LESS_GUARD + "; vanilla LiteLLM looks the key up in a database it does not have and answers 400",
        gatekit_status=401,
        upstream_status=400,
        shape_may_differ=True,
    ),
    Declared(
        "fallback (economy down)",
        "gatekit addition: `x-gatekit-fallback: served-by=<group>; attempts=<n>` says a request was served by a "
        "fallback tier (gatekit/runtime/surface.py); LiteLLM's own `x-litellm-attempted-fallbacks` is the same",
        headers=("x-gatekit-fallback",),
    ),
    Declared(
        "/metrics",
        "gatekit serves the Prometheus exposition at /metrics itself (its runtime metrics beside LiteLLM's, one "
        "scrape); vanilla LiteLLM mounts it at /metrics/ and redirects /metrics there with 307",
        gatekit_status=200,
        upstream_status=307,
        shape_may_differ=True,
    ),
    Declared(
        "/key/generate (non-admin client)",
        "gatekit's exposure rule (gateway.exposure, gatekit/runtime/exposure.py): the management API answers only "
        "clients in `admin_cidrs`; any other client gets 404 as if the path did not exist (every front door does the "
        "same). Vanilla LiteLLM serves its management API to anyone holding the master key",
        gatekit_status=404,
        upstream_status=200,
        shape_may_differ=True,
    ),
    Declared(
        "/gatekit/config",
        "a gatekit addition: the config/sync status endpoint (config version, etag, last sync); vanilla has none",
        gatekit_status=200,
        upstream_status=404,
        shape_may_differ=True,
    ),
)


def _covered(item: Declared, difference: str) -> bool:
    """Whether one difference line is among those the declaration names."""
    if difference.startswith("status "):
        return True  # the status pair was checked already
    if difference.startswith("header "):
        return any(difference.startswith(f"header {h}:") for h in item.headers)
    if difference.startswith("only gatekit: id "):
        return difference.removeprefix("only gatekit: id ") in item.gatekit_only_ids
    if item.shape_may_differ:
        return not difference.startswith(("only upstream: id ", "transport"))
    path = difference.removeprefix("only gatekit: ")
    if path == difference:
        return False
    return any(path == p or path.startswith((f"{p}.", f"{p}[]")) for p in item.gatekit_only_paths)


def find_declared(row: str, gk: Observation, up: Observation, differences: list[str]) -> Declared | None:
    for item in DECLARED:
        if item.row != row:
            continue
        if item.gatekit_status is None:
            if gk.status != up.status:
                continue
        elif (gk.status, up.status) != (item.gatekit_status, item.upstream_status):
            continue
        if all(_covered(item, d) for d in differences):
            return item
    return None
