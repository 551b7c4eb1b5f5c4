"""What every rehearsal's `route_sweep` check must have seen (gatekit.rehearse.sweep_check): `gatekit validate
--sweep-only` over the whole route table, from a non-admin address, answered only by the health probes (and /metrics
on loopback), and the management route hidden from that address while the admin address reaches its authentication."""

from __future__ import annotations

import re
from typing import Any

from gatekit.config.exposure import HEALTH_PATHS

ALLOWED = {*HEALTH_PATHS, "/metrics"}


def assert_only_health_answers(data: dict[str, Any]) -> None:
    evidence = next(c for c in data["checks"] if c["name"] == "route_sweep")["evidence"]
    assert evidence["source"] == "127.0.0.2" and evidence["exit_code"] == 0, evidence
    gate = evidence["gate"]
    assert gate["status"] == "PASS", gate
    found = re.fullmatch(r"(\d+) routes; only these answer: (.*)", gate["detail"])
    assert found and int(found.group(1)) > 300, gate
    answered = {item.split(" ", 1)[1] for item in found.group(2).split(", ") if item}
    assert answered and answered <= ALLOWED, answered
    assert evidence["contrast"]["non_admin"] == 404 and evidence["contrast"]["admin"] == 401, evidence["contrast"]
