"""Replica sizing (issue 15): workers default to the replica's vCPUs, incoherent sizings are refused with the numbers
that disagree, and the LiteLLM settings that decide throughput are rendered from the environment."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.config import default_config_dir, load_environment
from gatekit.config.errors import ConfigError
from gatekit.config.sizing import in_flight_target
from gatekit.render.env import render_environment
from gatekit.render.litellm import render_litellm_config


def env(name: str, *overrides: str):  # type: ignore[no-untyped-def]
    return load_environment(name, default_config_dir(), list(overrides))


@pytest.mark.parametrize(("cpu", "workers"), [(256, 1), (512, 1), (1024, 1), (2048, 2), (4096, 4)])
def test_workers_default_to_one_per_vcpu(cpu: int, workers: int) -> None:
    memory = max(2048, workers * 1024)
    assert env("dev", f"compute.cpu={cpu}", f"compute.memory_mib={memory}").gateway.workers == workers


def test_prod_runs_one_worker_per_vcpu_and_the_deployed_document_carries_the_number() -> None:
    prod = env("prod")
    assert prod.compute.cpu == 2048 and prod.gateway.workers == 2
    assert '"workers":2' in prod.model_dump_json()


@pytest.mark.parametrize(
    ("overrides", "path", "words"),
    [
        (("gateway.workers=2",), "gateway.workers", ["2 workers on a 0.5-vCPU replica", "compute.cpu 512"]),
        (("compute.cpu=2048", "gateway.workers=3"), "gateway.workers", ["at most one worker per vCPU (2)"]),
        (
            ("compute.cpu=2048", "compute.memory_mib=1024"),
            "compute.memory_mib",
            ["512 MiB each", "raise compute.memory_mib to 1536"],
        ),
    ],
)
def test_incoherent_sizing_is_refused_with_a_clear_message(overrides: tuple[str, ...], path: str, words: list[str]):  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as caught:
        env("dev", *overrides)
    (line,) = [line for line in str(caught.value).splitlines() if f" {path}: " in line]
    for word in words:
        assert word in line


def test_config_validate_refuses_more_workers_than_vcpus() -> None:
    result = CliRunner().invoke(cli, ["config", "validate", "--env", "prod", "--set", "gateway.workers=4"])
    assert result.exit_code == 1
    assert "gateway.workers" in result.output and "4 workers on a 2-vCPU replica" in result.output


def test_in_flight_target_is_a_share_of_max_in_flight() -> None:
    prod = env("prod")
    assert in_flight_target(prod) == prod.gateway.backpressure.max_in_flight // 2
    assert in_flight_target(env("prod", "compute.autoscaling.in_flight_target_percent=75")) == 384
    assert in_flight_target(env("dev", "gateway.backpressure.max_in_flight=1")) == 1


def test_database_pool_is_the_connection_limit_shared_by_every_process_at_full_scale() -> None:
    prod = env("prod", "database.connection_limit=500", "database.reserved_connections=20")
    processes = prod.compute.replicas.max * prod.gateway.workers
    general = render_litellm_config(prod)["general_settings"]
    assert general["database_connection_pool_limit"] == (500 - 20) // processes
    assert general["proxy_batch_write_at"] == prod.gateway.spend_logs.batch_write_seconds
    general = render_litellm_config(env("prod", "gateway.spend_logs.batch_write_seconds=30"))["general_settings"]
    assert general["proxy_batch_write_at"] == 30
    assert "database_connection_pool_limit" not in render_litellm_config(env("local"))["general_settings"]


def test_an_explicit_litellm_override_still_wins() -> None:
    prod = env("prod", "gateway.litellm.general_settings.database_connection_pool_limit=7")
    assert render_litellm_config(prod)["general_settings"]["database_connection_pool_limit"] == 7


def test_a_database_too_small_for_the_fleet_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        env("prod", "database.connection_limit=30", "database.reserved_connections=20")
    (message,) = [line for line in str(caught.value).splitlines() if " database.connection_limit: " in line]
    assert "10 connections for 24 gateway processes" in message and "at least 44" in message


def test_litellm_logs_at_its_own_level() -> None:
    assert render_environment(env("prod")).plain["LITELLM_LOG"] == "WARNING"
    debug = env("prod", "observability.litellm_log_level=DEBUG")
    assert render_environment(debug).plain["LITELLM_LOG"] == "DEBUG"
