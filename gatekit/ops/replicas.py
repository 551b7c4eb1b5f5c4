"""Ask replicas which config they serve (`GET /gatekit/config`, master key) and wait until all serve one version."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from gatekit.ops.errors import OpsError

STATUS_PATH = "/gatekit/config"


@dataclass
class ReplicaStatus:
    url: str
    version: str | None = None
    etag: str | None = None
    applied_at: str | None = None
    last_error: str | None = None
    unreachable: str | None = None

    @classmethod
    def of(cls, url: str, body: dict[str, Any]) -> ReplicaStatus:
        return cls(url, body.get("version"), body.get("etag"), body.get("applied_at"), body.get("last_error"))

    def describe(self) -> str:
        if self.unreachable:
            return f"{self.url}: unreachable ({self.unreachable})"
        error = f"; last_error: {self.last_error}" if self.last_error else ""
        return f"{self.url}: version {self.version} (applied {self.applied_at}){error}"


def fetch_status(url: str, key: str, client: httpx.Client) -> ReplicaStatus:
    try:
        response = client.get(url.rstrip("/") + STATUS_PATH, headers={"Authorization": f"Bearer {key}"})
    except httpx.HTTPError as exc:
        return ReplicaStatus(url, unreachable=f"{type(exc).__name__}: {exc}")
    if response.status_code == 401:
        raise OpsError(f"{url}{STATUS_PATH} refused the master key (401): check --key / the master key secret")
    if response.status_code != 200:
        return ReplicaStatus(url, unreachable=f"HTTP {response.status_code}")
    return ReplicaStatus.of(url, response.json())


def statuses(urls: list[str], key: str, timeout: float = 5.0) -> list[ReplicaStatus]:
    with httpx.Client(timeout=timeout) as client:
        return [fetch_status(url, key, client) for url in urls]


def wait_for_version(
    urls: list[str],
    key: str,
    version: str,
    timeout: float,
    echo: Callable[[str], None],
    interval: float = 1.0,
) -> list[ReplicaStatus]:
    """Poll until every replica reports `version`. Returns the replicas that did not converge (empty: all did)."""
    deadline = time.monotonic() + timeout
    pending = list(urls)
    last: dict[str, ReplicaStatus] = {}
    with httpx.Client(timeout=min(5.0, timeout)) as client:
        while pending:
            for url in list(pending):
                status = fetch_status(url, key, client)
                last[url] = status
                if status.version == version:
                    pending.remove(url)
                    echo(f"  converged: {url} serves {version}")
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(interval)
    return [last[url] for url in pending]
