"""Security invariants of the synthesized network, moat isolation and observability."""

from __future__ import annotations

import pytest

from tests.cdk.conftest import Synthesized
from tests.cdk.helpers import only, text


@pytest.mark.parametrize("name", ["prod", "staging"])
def test_network_az_count_flow_logs_and_endpoints(synthesized: dict[str, Synthesized], name: str) -> None:
    item = synthesized[name]
    net = item.env.network
    subnets = item.resources("network", "AWS::EC2::Subnet")
    assert len(subnets) == 3 * net.az_count
    assert len({s["Properties"]["AvailabilityZone"] for s in subnets.values()}) == net.az_count
    assert only(item.resources("network", "AWS::EC2::FlowLog"))["Properties"]["TrafficType"] == "ALL"
    endpoints = item.resources("network", "AWS::EC2::VPCEndpoint").values()
    services = text([e["Properties"]["ServiceName"] for e in endpoints])
    for endpoint in net.endpoints:
        assert f".{endpoint}" in services, endpoint


def test_moat_is_isolated(synthesized: dict[str, Synthesized]) -> None:
    moat = synthesized["moat"]
    assert not moat.resources("network", "AWS::EC2::NatGateway")
    assert not moat.resources("network", "AWS::EC2::InternetGateway")
    routes = moat.resources("network", "AWS::EC2::Route").values()
    assert all("GatewayId" not in r["Properties"] and "NatGatewayId" not in r["Properties"] for r in routes)
    assert len(moat.resources("network", "AWS::EC2::VPCEndpoint")) == len(moat.env.network.endpoints)


def test_observability_sampling_logs_and_alarms(each_env: Synthesized) -> None:
    obs = each_env.env.observability
    rule = only(each_env.resources("observability", "AWS::XRay::SamplingRule"))["Properties"]["SamplingRule"]
    assert rule["FixedRate"] == obs.traces_sample_ratio
    assert rule["ServiceName"] == f"{each_env.env.deployment.prefix}-gateway"
    assert each_env.resources("observability", "AWS::XRay::Group")
    for _stack, lid, resource in each_env.all_resources():
        if resource["Type"] == "AWS::Logs::LogGroup":
            assert resource["Properties"]["RetentionInDays"] >= obs.log_retention_days, lid
            assert "KmsKeyId" in resource["Properties"], lid
    alarms = each_env.resources("monitoring", "AWS::CloudWatch::Alarm")
    descriptions = text([a["Properties"]["AlarmDescription"] for a in alarms.values()])
    for needle in ("5xx rate", "p99", "shed", "reload", "Aurora", "cache"):
        assert needle in descriptions, needle
    assert all(a["Properties"]["AlarmActions"] for a in alarms.values())
    assert each_env.resources("monitoring", "AWS::CloudWatch::Dashboard")
