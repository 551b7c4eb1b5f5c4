"""Who hears about routing decisions: the interface routing owns and the runtime plugs into.

gatekit.routing never imports the runtime. The gateway runtime registers its observers (the `gatekit.route` span of
gatekit.runtime.telemetry) when it builds the app; the routing hook calls `notify` after every decision."""

from __future__ import annotations

from collections.abc import Callable

from gatekit.routing.engine import Decision

DecisionObserver = Callable[[Decision], None]
_observers: list[DecisionObserver] = []


def add_decision_observer(observer: DecisionObserver) -> None:
    """Register `observer` once (building the app again does not register it twice)."""
    if observer not in _observers:
        _observers.append(observer)


def remove_decision_observer(observer: DecisionObserver) -> None:
    if observer in _observers:
        _observers.remove(observer)


def notify(decision: Decision) -> None:
    for observer in list(_observers):
        observer(decision)
