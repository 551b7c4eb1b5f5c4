"""The rendered WAF lets prompts through on the inference API and still blocks the same bodies elsewhere; staging
runs prod's rules; a rate-based rule per client and logging are part of it."""

from __future__ import annotations

import copy
import json

import pytest

from cdk.waf import web_acl_rules
from gatekit.config import default_config_dir, load_environment
from tests.security.waf_eval import evaluate

PROMPTS = [
    "Why does my page run `<script>alert(1)</script>` from the comment field? Show the fix.",
    "My Flask route serves open(request.args['f']); an attacker asked for ../../etc/passwd. How do I stop it?",
    "Explain why code fetching http://169.254.169.254/latest/meta-data/ from user input is an SSRF risk.",
    "Summarise this log: " + "x" * 20_000,  # larger than the managed 8 KB body limit
]


def chat(prompt: str) -> str:
    return json.dumps({"model": "economy", "messages": [{"role": "user", "content": prompt}]})


@pytest.fixture(scope="module")
def prod_rules() -> list[dict[str, object]]:
    return web_acl_rules(load_environment("prod", default_config_dir()))


@pytest.mark.parametrize("prompt", PROMPTS)
def test_prompts_pass_on_the_inference_api(prod_rules: list[dict[str, object]], prompt: str) -> None:
    assert evaluate(prod_rules, "/v1/chat/completions", chat(prompt)) == ("ALLOW", None)


@pytest.mark.parametrize("prompt", PROMPTS[:3])
def test_the_same_bodies_are_blocked_off_the_inference_api(prod_rules: list[dict[str, object]], prompt: str) -> None:
    assert evaluate(prod_rules, "/key/generate", chat(prompt)) == ("BLOCK", "BodyRulesOutsideInference")


def test_without_the_count_overrides_the_managed_rules_would_block_prompts(
    prod_rules: list[dict[str, object]],
) -> None:
    """The emulation is not vacuous: the managed rules as AWS ships them (no overrides) block these prompts."""
    stock = copy.deepcopy(prod_rules)
    for rule in stock:
        rule["Statement"].get("ManagedRuleGroupStatement", {}).pop("RuleActionOverrides", None)  # type: ignore[union-attr]
    verdicts = [evaluate(stock, "/v1/chat/completions", chat(p))[0] for p in PROMPTS]
    assert verdicts == ["BLOCK"] * len(PROMPTS)


def test_staging_runs_the_prod_waf_with_a_rate_rule_per_client(prod_rules: list[dict[str, object]]) -> None:
    staging = load_environment("staging", default_config_dir())
    assert staging.network.waf
    assert web_acl_rules(staging) == prod_rules
    (rate,) = [r for r in prod_rules if "RateBasedStatement" in r["Statement"]]  # type: ignore[operator]
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"  # type: ignore[index]
    assert rate["Action"] == {"Block": {}}
