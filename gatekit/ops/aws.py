"""boto3 clients whose failures arrive as OpsError (with the IAM permission a denied call needs).

Endpoints and credentials come from the standard AWS chain (profiles, SSO, AWS_ENDPOINT_URL for moto drills)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from gatekit.ops.errors import translate

_RETRIES = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=10, read_timeout=60)


class SafeClient:
    """Wraps a botocore client: `client.update_service(...)` raises OpsError instead of ClientError."""

    def __init__(self, client: BaseClient) -> None:
        # botocore builds a client's methods at run time and ships no types: the client is Any from here on.
        self.raw: Any = cast(Any, client)
        self.signing_name: str = self.raw.meta.service_model.signing_name

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.raw, name)
        if not callable(method) or name.startswith(("get_paginator", "get_waiter", "can_paginate")):
            return method
        operation: str | None = self.raw.meta.method_to_api_mapping.get(name)
        if operation is None:
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except (BotoCoreError, ClientError, ResponseParserError) as exc:
                raise translate(exc, self.signing_name, operation, _target(kwargs)) from None

        return call

    def pages(self, method_name: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Every page of a paginated call, with failures translated like single calls."""
        operation: str = self.raw.meta.method_to_api_mapping[method_name]
        try:
            return list(self.raw.get_paginator(method_name).paginate(**kwargs))
        except (BotoCoreError, ClientError, ResponseParserError) as exc:
            raise translate(exc, self.signing_name, operation, _target(kwargs)) from None


def _target(kwargs: dict[str, Any]) -> str:
    for key in ("StackName", "cluster", "service", "SecretId", "DBClusterIdentifier", "ReplicationGroupId", "Bucket"):
        if key in kwargs:
            return f"{key}={kwargs[key]}"
    return ""


class Aws:
    """One session per command; clients are created on first use."""

    def __init__(self, region: str | None, session: boto3.Session | None = None) -> None:
        self.session = session or boto3.Session(region_name=region)
        self.region = cast("str | None", self.session.region_name) or region  # boto3 ships no types
        self._clients: dict[str, SafeClient] = {}

    def client(self, service: str) -> SafeClient:
        if service not in self._clients:
            make_client = cast("Callable[..., BaseClient]", self.session.client)  # boto3 ships no types
            self._clients[service] = SafeClient(make_client(service, region_name=self.region, config=_RETRIES))
        return self._clients[service]

    def use(self, service: str, client: BaseClient) -> None:
        """Put a specific client in place (tests attach botocore Stubbers this way)."""
        self._clients[service] = SafeClient(client)
