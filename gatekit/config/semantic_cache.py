"""Semantic caching (LiteLLM `redis-semantic` / `qdrant-semantic`): refused, with the reason, on every target.

* `redis-semantic` runs on redisvl, which needs the RediSearch module (`FT.CREATE`, vector indexes). The Redis every
  target has — ElastiCache Valkey/Redis OSS from the CDK stacks, Memorystore/Azure Cache from Pulumi, a bring-your-own
  `cache.url`, Debian's Redis 7 for `local` and the tests — lacks it, so LiteLLM would fail on the first cached call.
* `qdrant-semantic` needs a Qdrant server; no target deploys one and none can be started where gatekit is tested.

Until a target provides the backend (and a test proves it on a real server), validation refuses both instead of
rendering a cache that cannot work."""

from __future__ import annotations

from collections.abc import Iterator

WHY: dict[str, str] = {
    "redis-semantic": "needs a Redis with the RediSearch module (vector indexes, `FT.CREATE`); the cache of target "
    "`{target}` (ElastiCache/Memorystore/Azure Cache, a `cache.url` Redis, Debian's Redis 7 locally) has none",
    "qdrant-semantic": "needs a Qdrant server, which target `{target}` does not deploy and gatekit cannot test",
}


def semantic_cache_findings(backend: str, enabled: bool, target: str) -> Iterator[tuple[str, str]]:
    if enabled and backend in WHY:
        yield (
            "gateway.caching.backend",
            f"`{backend}` " + WHY[backend].format(target=target) + "; use `redis` (exact-match cache shared by "
            "replicas) or `local`",
        )
