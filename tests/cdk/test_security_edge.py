"""Security invariants of the synthesized edge: ALB listeners, TLS, WAF, exposed paths, admin networks."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.cdk.conftest import Synthesized
from tests.cdk.helpers import only, template


def test_alb_https_tls12_redirect_and_waf_with_a_domain(synthesized: dict[str, Synthesized]) -> None:
    t = template(synthesized["prod"].stack("gateway"))
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Protocol": "HTTPS", "Port": 443, "SslPolicy": Match.string_like_regexp("TLS13-1-2")},
    )
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Protocol": "HTTP",
            "Port": 80,
            "DefaultActions": [
                Match.object_like({"Type": "redirect", "RedirectConfig": Match.object_like({"Protocol": "HTTPS"})})
            ],
        },
    )
    t.has_resource_properties("AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internet-facing"})
    t.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "LoadBalancerAttributes": Match.array_with(
                [{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}]
            )
        },
    )


def test_internal_albs_are_https_with_the_prod_waf_and_vpc_only(synthesized: dict[str, Synthesized]) -> None:
    """dev, staging and moat: internal, HTTPS with a private-CA certificate, the same WAF as prod (issue 12)."""
    for name in ("dev", "staging", "moat"):
        item = synthesized[name]
        alb = only(item.resources("gateway", "AWS::ElasticLoadBalancingV2::LoadBalancer"))
        assert alb["Properties"]["Scheme"] == "internal", name
        listeners = item.resources("gateway", "AWS::ElasticLoadBalancingV2::Listener").values()
        assert {(r["Properties"]["Protocol"], r["Properties"]["Port"]) for r in listeners} == {
            ("HTTPS", 443),
            ("HTTP", 80),
        }, name
        http = [r for r in listeners if r["Properties"]["Protocol"] == "HTTP"]
        assert all(r["Properties"]["DefaultActions"][0]["Type"] == "redirect" for r in http), name
        cert = only(item.resources("gateway", "AWS::CertificateManager::Certificate"))
        assert "CertificateAuthorityArn" in cert["Properties"], name
        assert item.resources("gateway", "AWS::WAFv2::WebACLAssociation"), name
        assert item.resources("gateway", "AWS::WAFv2::LoggingConfiguration"), name
        alb_sg = [
            r
            for r in item.resources("network", "AWS::EC2::SecurityGroup").values()
            if "load balancer" in r["Properties"]["GroupDescription"]
        ]
        ingress = only(dict(enumerate(alb_sg)))["Properties"]["SecurityGroupIngress"]
        assert all("CidrIp" not in rule or rule["CidrIp"] != "0.0.0.0/0" for rule in ingress), name


def test_listener_forwards_only_the_exposed_paths(each_env: Synthesized) -> None:
    from cdk.front_door import listener_rules

    https = [
        r
        for r in each_env.resources("gateway", "AWS::ElasticLoadBalancingV2::Listener").values()
        if r["Properties"]["Protocol"] == "HTTPS"
    ]
    assert only(dict(enumerate(https)))["Properties"]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
    rules = each_env.resources("gateway", "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    rendered = sorted(
        (r["Properties"]["Priority"], tuple(r["Properties"]["Conditions"][0]["PathPatternConfig"]["Values"]))
        for r in rules
        if r["Properties"]["Conditions"][0]["Field"] == "path-pattern"
    )
    expected = [
        (r.priority, r.values) for r in listener_rules(each_env.env.gateway.exposure) if r.field == "path-pattern"
    ]
    assert rendered == expected


def test_admin_networks_reach_every_path_through_the_listener() -> None:
    """`gateway.exposure.admin_cidrs` becomes a source-ip listener rule forwarding every path (synthesized for real:
    the rule's construct call failed only when an admin network was configured)."""
    from cdk.app_builder import build_app, new_app
    from gatekit.config import default_config_dir, load_environment

    env = load_environment("dev", default_config_dir(), ['gateway.exposure.admin_cidrs=["10.20.0.0/24"]'])
    app = new_app()
    stacks = build_app(app, env, nag=False)
    resources = app.synth().get_stack_by_name(stacks.gateway.stack_name).template["Resources"]
    source_ip = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
        and r["Properties"]["Conditions"][0]["Field"] == "source-ip"
    ]
    assert len(source_ip) == 1
    assert source_ip[0]["Conditions"][0]["SourceIpConfig"]["Values"] == ["10.20.0.0/24"]
    assert source_ip[0]["Actions"][0]["Type"] == "forward"
