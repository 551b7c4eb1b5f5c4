"""LiteLLM CustomLogger callback (a public extension point) that records each upstream call as a span."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

from gatekit.runtime.telemetry import record_upstream_call


def _ns(value: Any) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1_000_000_000)
    if isinstance(value, int | float):
        return int(value * 1_000_000_000)
    return None


class UpstreamSpanLogger(CustomLogger):
    """Emits `gatekit.upstream` with the model group, the deployment the router picked and the provider."""

    def _record(self, kwargs: dict[str, Any], start_time: Any, end_time: Any, error: str | None) -> None:
        start_ns, end_ns = _ns(start_time), _ns(end_time)
        if start_ns is None or end_ns is None:
            return
        params: dict[str, Any] = kwargs.get("litellm_params") or {}
        model_info: dict[str, Any] = params.get("model_info") or {}
        metadata: dict[str, Any] = params.get("metadata") or {}
        record_upstream_call(
            start_ns,
            end_ns,
            model=str(metadata.get("model_group") or kwargs.get("model") or ""),
            deployment=model_info.get("id"),
            provider=params.get("custom_llm_provider"),
            error=error,
        )

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._record(kwargs, start_time, end_time, None)

    async def async_log_failure_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        exception = kwargs.get("exception")
        self._record(kwargs, start_time, end_time, type(exception).__name__ if exception else "upstream error")
