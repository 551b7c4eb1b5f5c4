"""One reachable surface (ASGI middleware, outermost): the runtime's half of `gateway.exposure`.

- The client address is the socket peer, or, when the peer is a trusted proxy (`trusted_proxy_ranges`, by default
  the VPC where the load balancer lives), the right-most untrusted X-Forwarded-For hop. The resolved address
  replaces `scope["client"]`, so LiteLLM's per-client limits see the client and not the load balancer.
- Paths outside `exposure.paths` answer 404 unless the client is in `admin_cidrs`: docs, redoc, OpenAPI, the UI and
  the management API are not part of the surface unless an operator exposes them.
- gatekit's `/metrics` answers the loopback peer (the collector sidecar that scrapes it on every target), an admin
  client, or a request carrying the master key; anyone else gets 401."""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Callable, Iterable
from functools import cache

from starlette.types import ASGIApp, Receive, Scope, Send

from gatekit.config.exposure import Exposure, path_exposed
from gatekit.runtime.auth_guard import presented_keys

METRICS_PATH = "/metrics"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PEER_SCOPE_KEY = "gatekit.peer"


@cache
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _in(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in networks)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def resolve_client(peer: str, headers: Iterable[tuple[bytes, bytes]], trusted: tuple[Network, ...]) -> str:
    """The client's address: the peer, or behind trusted proxies the right-most untrusted X-Forwarded-For hop."""
    if not trusted or not _in(peer, trusted):
        return peer
    hops = [
        hop.strip()
        for name, value in headers
        if name.lower() == b"x-forwarded-for"
        for hop in value.decode("latin-1").split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else peer


async def _json(send: Send, status: int, message: str, kind: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": {"message": message, "type": kind, "code": str(status)}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ExposureGuard:
    def __init__(
        self,
        app: ASGIApp,
        exposure: Callable[[], Exposure],
        trusted_proxies: Callable[[], list[str]],
        master_key: str,
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.exposure = exposure
        self.trusted_proxies = trusted_proxies
        self.master_key = master_key.encode()
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        exposure = self.exposure()
        headers = scope.get("headers", [])
        peer, port = scope.get("client") or ("", 0)
        client = resolve_client(peer, headers, _networks(tuple(self.trusted_proxies())))
        scope = {**scope, "client": (client, port), PEER_SCOPE_KEY: peer}
        admin = _in(client, _networks(tuple(exposure.admin_cidrs)))
        path = scope["path"]
        if path == METRICS_PATH:
            if admin or _is_loopback(peer) or self._has_master_key(headers):
                await self.app(scope, receive, send)
            else:
                await self._refuse(scope, send, 401, "Authentication Error: /metrics needs the master key")
            return
        if admin or path_exposed(path, exposure.paths):
            await self.app(scope, receive, send)
            return
        await self._refuse(scope, send, 404, "Not Found")

    def _has_master_key(self, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        keys = presented_keys(headers)
        return bool(keys) and all(hmac.compare_digest(k, self.master_key) for k in keys)

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        if self.on_refused is not None:
            self.on_refused()
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
        await _json(send, status, message, "not_found" if status == 404 else "auth_error", extra)
