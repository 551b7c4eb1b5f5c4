"""The routing engine: encoder + strategy adapter + artifact, a decision function, and hot reload.

A reload fetches the artifact, verifies it and builds the new adapter completely before swapping one reference;
anything that fails leaves the old router serving and is recorded (status, metric, log)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from gatekit.routing.adapters import ARTIFACT_ADAPTERS, Adapter
from gatekit.routing.artifact import Artifact, ArtifactError, parse
from gatekit.routing.context import Window, window, window_of_prompt
from gatekit.routing.encoder import EncoderUnavailable, StaticEncoder, load_encoder
from gatekit.routing.features import WindowFeaturizer
from gatekit.routing.metrics import routing_metrics
from gatekit.routing.registry import StrategyUnavailable, build_adapter
from gatekit.routing.source import ArtifactSource, source_for
from gatekit.routing.spec import RoutingSpec

log = logging.getLogger("gatekit.routing")
PROFILES = ("eco", "balanced", "precision")  # cheapest first: a later profile sends more to premium
LOAD_ERRORS = (ArtifactError, EncoderUnavailable, StrategyUnavailable, OSError)


def default_artifact_dir(strategy: str) -> Path | None:
    """The shipped default router for a strategy (trained on data/routing), if there is one."""
    path = Path(str(resources.files("gatekit.routing").joinpath("default", strategy)))
    return path if (path / "manifest.json").is_file() else None


class RoutingUnavailable(RuntimeError):
    """The alias was called while no router is loaded (on_load_failure: not-ready)."""


@dataclass(frozen=True)
class Decision:
    tier: str
    strategy: str
    score: float
    profile: str
    latency_ms: float
    artifact_version: str | None
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class Loaded:
    adapter: Adapter
    artifact: Artifact | None
    stamp: str | None
    order: np.ndarray | None  # artifact tier index -> position in spec.tiers


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RoutingEngine:
    def __init__(self, spec: RoutingSpec, s3_client: Any | None = None) -> None:
        self.spec = spec
        self.metrics = routing_metrics()
        self._s3 = s3_client
        self._encoder: StaticEncoder | None = None
        self._featurizer: WindowFeaturizer | None = None
        self._current: Loaded | None = None
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self.loaded_at: str | None = None
        self.reloads = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        uri = spec.artifact_uri if spec.strategy in ARTIFACT_ADAPTERS else None
        if uri is None and spec.strategy in ARTIFACT_ADAPTERS:
            shipped = default_artifact_dir(spec.strategy)
            uri = str(shipped) if shipped else None
        self.source: ArtifactSource | None = None
        self._source_error: ArtifactError | None = None
        try:
            self.source = source_for(uri, s3_client) if uri else None
        except ArtifactError as exc:  # reported by load(), which honours on_load_failure
            self._source_error = exc

    # ---- loading -------------------------------------------------------------------------------------------------
    def _encoder_for(self, adapter: Adapter) -> StaticEncoder | None:
        if not adapter.needs_encoder:
            return None
        if self._encoder is None:
            self._encoder = load_encoder(self.spec.encoder)
            self._featurizer = WindowFeaturizer(self._encoder)
        return self._encoder

    def _build(self) -> Loaded:
        if self._source_error is not None:
            raise self._source_error
        artifact, stamp = None, None
        if self.spec.strategy in ARTIFACT_ADAPTERS and self.source is not None:
            stamp = self.source.stamp()
            artifact = parse(self.source.fetch())
        adapter = build_adapter(self.spec, artifact)
        encoder = self._encoder_for(adapter)
        if artifact is not None and encoder is not None and artifact.encoder_fingerprint != encoder.fingerprint:
            raise ArtifactError(
                f"{artifact.uri}: trained with encoder {artifact.encoder_fingerprint}, "
                f"this gateway encodes with {encoder.fingerprint}"
            )
        order = np.array([self.spec.tier_names.index(t) for t in adapter.tiers]) if adapter.tiers else None
        warm = window_of_prompt("warm up the routing path")  # first-call page faults before serving traffic
        adapter.probabilities(self._featurizer.legacy(warm) if encoder is not None and self._featurizer else None)
        return Loaded(adapter, artifact, stamp, order)

    def _failed(self, exc: Exception) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.last_error_at = _now()
        self.failures += 1
        self.metrics.load_failures.inc()
        log.error("ml routing: %s", self.last_error)

    def _applied(self, loaded: Loaded) -> None:
        self._current = loaded
        self.loaded_at = _now()
        self.last_error = None
        self.metrics.ready.set(1)
        self.metrics.artifact.info({"strategy": self.spec.strategy, "version": self.artifact_version or "none"})

    def load(self) -> None:
        """Initial load. With on_load_failure=fail-startup the error propagates (the process must not start)."""
        try:
            self._applied(self._build())
        except LOAD_ERRORS as exc:
            self._failed(exc)
            self.metrics.ready.set(0)
            if self.spec.on_load_failure == "fail-startup":
                raise

    def reload_if_changed(self) -> bool:
        """Poll the source; apply a changed artifact only if it verifies. True when a new artifact was applied."""
        if self.source is None:
            return False
        try:
            current = self._current
            if current is not None and self.source.stamp() == current.stamp:
                return False
            loaded = self._build()
        except LOAD_ERRORS as exc:
            self._failed(exc)
            return False
        self._applied(loaded)
        self.reloads += 1
        self.metrics.reloads.inc()
        log.info("ml routing: applied artifact %s from %s", self.artifact_version, self.source.uri)
        return True

    def start_watcher(self) -> None:
        if self._thread is not None or self.source is None:
            return

        def loop() -> None:
            while not self._stop.wait(self.spec.reload_interval_seconds):
                self.reload_if_changed()

        self._thread = threading.Thread(target=loop, name="gatekit-route-reload", daemon=True)
        self._thread.start()

    def stop_watcher(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ---- deciding ------------------------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self._current is not None

    @property
    def artifact_version(self) -> str | None:
        current = self._current
        return current.artifact.version if current and current.artifact else None

    def profile_cap(self, key_alias: str | None = None, team: str | None = None) -> str | None:
        """The admin's profile for this key (else its team): the most premium a request of this key may ask for."""
        if key_alias and key_alias in self.spec.key_profiles:
            return self.spec.key_profiles[key_alias]
        if team and team in self.spec.team_profiles:
            return self.spec.team_profiles[team]
        return None

    def profile_for(self, requested: str | None, key_alias: str | None = None, team: str | None = None) -> str:
        """The profile a request gets. A client header may ask for a cheaper profile than its key's (or team's), never
        for a more premium one: that is clamped to the key's profile. Without a key/team profile the header is free."""
        cap = self.profile_cap(key_alias, team)
        if requested:
            if requested not in PROFILES:
                raise ValueError(f"unknown routing profile `{requested}`; use one of {', '.join(PROFILES)}")
            if cap is not None and PROFILES.index(requested) > PROFILES.index(cap):
                self.metrics.clamped.inc()
                return cap
            return requested
        return cap or self.spec.default_profile

    def threshold(self, profile: str) -> float:
        """A calibrated artifact states per profile the score threshold that gives its premium share; else config."""
        current = self._current
        calibration: dict[str, Any] = (
            (current.artifact.params.get("calibration") or {}) if current and current.artifact else {}
        )
        if profile in calibration:
            return float(calibration[profile]["threshold"])
        return self.spec.profile_thresholds[profile]

    def decide(self, request: str | list[dict[str, Any]] | Window, profile: str | None = None) -> Decision:
        """Decide for a prompt, a chat conversation (OpenAI messages) or a prepared window."""
        current = self._current
        if current is None:
            raise RoutingUnavailable(f"ml routing (`{self.spec.strategy}`) is not loaded: {self.last_error}")
        start = time.perf_counter()
        if isinstance(request, Window):
            w = request
        else:
            w = window_of_prompt(request) if isinstance(request, str) else window(request)
        profile = profile or self.spec.default_profile
        names = self.spec.tier_names
        adapter = current.adapter
        featurizer = self._featurizer
        x = featurizer.legacy(w) if (adapter.needs_encoder and featurizer is not None) else None
        p = np.zeros(len(names))
        assert current.order is not None
        p[current.order] = adapter.probabilities(x)
        score = float(1.0 - p[0])
        threshold = self.threshold(profile)
        above = 1.0 - np.cumsum(p)  # P(the request needs a tier stronger than tier i)
        tier = names[int(np.argmax(above < threshold))] if (above < threshold).any() else names[-1]
        latency_ms = (time.perf_counter() - start) * 1000
        self.metrics.decisions.labels(tier=tier).inc()
        return Decision(tier, self.spec.strategy, score, profile, latency_ms, self.artifact_version, tuple(names))

    def status(self) -> dict[str, Any]:
        return {
            "enabled": True,
            "ready": self.ready,
            "alias": self.spec.alias,
            "strategy": self.spec.strategy,
            "artifact_uri": self.source.uri if self.source else None,
            "artifact_version": self.artifact_version,
            "encoder": self._encoder.fingerprint if self._encoder else None,
            "loaded_at": self.loaded_at,
            "reloads": self.reloads,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
        }
