"""TLS rules fail validation loudly: a DNS-validated certificate with no hosted zone (it would hold the deploy), moat
without an imported or private-CA certificate; every shipped AWS environment has an HTTPS-able domain."""

from __future__ import annotations

import pytest

from gatekit.config import ConfigError, default_config_dir, load_environment


def problems(name: str, overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as exc:
        load_environment(name, default_config_dir(), overrides)
    return exc.value.report()


def test_prod_domain_without_a_way_to_issue_the_certificate_fails() -> None:
    report = problems("prod", ["domain.hosted_zone_id=null"])
    assert "no way to issue the certificate" in report and "hosted_zone_id" in report


def test_moat_refuses_dns_validation_and_a_missing_domain() -> None:
    assert "cannot validate by DNS" in problems(
        "moat", ["domain.private_ca_arn=null", "domain.hosted_zone_id=Z0EXAMPLE0GATEKIT"]
    )
    assert "serves HTTPS only" in problems("moat", ["domain=null"])


@pytest.mark.parametrize("name", ["dev", "staging", "prod", "moat"])
def test_every_shipped_aws_environment_has_a_certificate_source(name: str) -> None:
    env = load_environment(name, default_config_dir())
    assert env.domain is not None
    assert env.domain.certificate_arn or env.domain.private_ca_arn or env.domain.hosted_zone_id
    assert env.domain.internal == (name != "prod")
