"""How many worker processes a replica runs, and which sizings are incoherent.

A replica (ECS task, k8s pod) gets `compute.cpu` CPU units (1024 = 1 vCPU; k8s renders the same units as millicores).
Each worker is one uvicorn process with its own event loop, so a worker needs a whole vCPU to be worth having: the
default is one worker per vCPU, and more workers than vCPUs, or a worker without the memory LiteLLM needs, is refused
at validation with the numbers that disagree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekit.config import Environment

CPU_UNITS_PER_VCPU = 1024
# Measured resident memory of one gatekit worker (LiteLLM proxy imported, local config, after traffic) is ~650 MiB
# (docs/performance.md); a worker below this share of the task's memory would be OOM-killed under load.
MIN_MEMORY_MIB_PER_WORKER = 768


def vcpus(cpu_units: int) -> float:
    return cpu_units / CPU_UNITS_PER_VCPU


def default_workers(cpu_units: int) -> int:
    """One worker per whole vCPU, at least one (a 0.25 or 0.5 vCPU task runs one worker)."""
    return max(1, cpu_units // CPU_UNITS_PER_VCPU)


def replica_workers(env: Environment) -> int:
    """The worker count of one replica (the model fills `gateway.workers` from compute.cpu when it is empty)."""
    return env.gateway.workers or default_workers(env.compute.cpu)


def in_flight_target(env: Environment) -> int:
    """Average requests in flight per replica the autoscalers hold (at least 1)."""
    percent = env.compute.autoscaling.in_flight_target_percent
    return max(1, env.gateway.backpressure.max_in_flight * percent // 100)


def check_sizing(env: Environment) -> Iterator[tuple[str, str]]:
    workers = replica_workers(env)
    cpu = env.compute.cpu
    allowed = default_workers(cpu)
    if workers > allowed:
        yield (
            "gateway.workers",
            f"{workers} workers on a {vcpus(cpu):g}-vCPU replica (compute.cpu {cpu}, target `{env.target}`): at most "
            f"one worker per vCPU ({allowed}); raise compute.cpu to at least {workers * CPU_UNITS_PER_VCPU} "
            "or lower gateway.workers",
        )
    per_worker = env.compute.memory_mib // workers
    if per_worker < MIN_MEMORY_MIB_PER_WORKER:
        yield (
            "compute.memory_mib",
            f"{env.compute.memory_mib} MiB for {workers} workers is {per_worker} MiB each; a worker needs at least "
            f"{MIN_MEMORY_MIB_PER_WORKER} MiB: raise compute.memory_mib to {workers * MIN_MEMORY_MIB_PER_WORKER} "
            "or lower gateway.workers",
        )


def max_processes(env: Environment) -> int:
    """The most gateway processes that hold database pools at once (every replica at full scale)."""
    return env.compute.replicas.max * replica_workers(env)


def pool_per_process(env: Environment) -> int:
    """Connections one worker process may open: the gateway's share of the database ÷ processes (can be 0)."""
    db = env.database
    return (db.connection_limit - db.reserved_connections) // max_processes(env)


def check_database_pool(env: Environment) -> Iterator[tuple[str, str]]:
    db = env.database
    if not env.database.enabled:
        return
    if db.reserved_connections >= db.connection_limit:
        yield "database.reserved_connections", f"must be below database.connection_limit ({db.connection_limit})"
    elif pool_per_process(env) < 1:
        processes = max_processes(env)
        yield (
            "database.connection_limit",
            f"{db.connection_limit - db.reserved_connections} connections for {processes} gateway processes "
            f"(compute.replicas.max {env.compute.replicas.max} x gateway.workers {replica_workers(env)}) leaves no "
            f"connection per process: raise database.connection_limit to at least "
            f"{processes + db.reserved_connections} or lower the replica or worker count",
        )
