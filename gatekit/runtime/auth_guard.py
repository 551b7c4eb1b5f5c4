"""DB-less authentication guard (ASGI middleware).

Without a database LiteLLM can only verify the master key; any other key falls into its database code path and is
answered with a 400/500 instead of 401. gatekit rejects missing and wrong keys with 401 before they reach LiteLLM.
With a database, virtual keys are LiteLLM's business and this guard is not installed.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

KEY_HEADERS = (b"authorization", b"x-api-key", b"api-key", b"x-litellm-api-key")
DEFAULT_EXEMPT = ("/health/liveliness", "/health/liveness", "/health/readiness", "/metrics")


def presented_keys(headers: Iterable[tuple[bytes, bytes]]) -> list[bytes]:
    keys: list[bytes] = []
    for name, value in headers:
        name = name.lower()
        if name not in KEY_HEADERS:
            continue
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            value = token.strip() if scheme.lower() == b"bearer" else b""
        if value:
            keys.append(value.strip())
    return keys


class MasterKeyGuard:
    def __init__(self, app: ASGIApp, master_key: str, exempt: tuple[str, ...] = DEFAULT_EXEMPT) -> None:
        self.app = app
        self.master_key = master_key.encode()
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or self._is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        keys = presented_keys(scope.get("headers", []))
        if keys and all(hmac.compare_digest(k, self.master_key) for k in keys):
            await self.app(scope, receive, send)
            return
        reason = "invalid API key" if keys else "missing API key (send `Authorization: Bearer <key>`)"
        error = {"message": f"Authentication Error: {reason}", "type": "auth_error", "code": "401"}
        body = json.dumps({"error": error})
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})

    def _is_exempt(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.exempt)
