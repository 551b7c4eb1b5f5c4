"""Evaluate one request against a rendered WAF rule list (cdk.waf.web_acl_rules), the way AWS WAF does: rules in
priority order; a managed rule that matches blocks, unless the rendered overrides set it to count, in which case it
only adds its label; our own rules then see those labels.

AWS does not publish the managed rules' signatures; SIGNATURES emulates the body rules with what trips them on real
prompts (documented behaviour: `<script`, `../`, a URL to an IP address, the instance metadata address, `${jndi:`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cdk.waf import BODY_RULES, body_label

SIGNATURES: dict[str, Callable[[str], bool]] = {
    "SizeRestrictions_BODY": lambda body: len(body.encode()) > 8192,
    "CrossSiteScripting_BODY": re.compile(r"<\s*script", re.I).search,  # type: ignore[dict-item]
    "GenericLFI_BODY": re.compile(r"\.\./").search,  # type: ignore[dict-item]
    "GenericRFI_BODY": re.compile(r"https?://\d{1,3}(\.\d{1,3}){3}").search,  # type: ignore[dict-item]
    "EC2MetaDataSSRF_BODY": re.compile(r"169\.254\.169\.254").search,  # type: ignore[dict-item]
    "Log4JRCE_BODY": re.compile(r"\$\{jndi:", re.I).search,  # type: ignore[dict-item]
    "JavaDeserializationRCE_BODY": re.compile(r"rO0AB").search,  # type: ignore[dict-item]
}


def _statement(stmt: dict[str, Any], path: str, labels: set[str]) -> bool:
    if "AndStatement" in stmt:
        return all(_statement(s, path, labels) for s in stmt["AndStatement"]["Statements"])
    if "OrStatement" in stmt:
        return any(_statement(s, path, labels) for s in stmt["OrStatement"]["Statements"])
    if "NotStatement" in stmt:
        return not _statement(stmt["NotStatement"]["Statement"], path, labels)
    if "LabelMatchStatement" in stmt:
        return stmt["LabelMatchStatement"]["Key"] in labels
    if "ByteMatchStatement" in stmt:
        match = stmt["ByteMatchStatement"]
        assert "UriPath" in match["FieldToMatch"] and match["PositionalConstraint"] == "STARTS_WITH", match
        return path.startswith(match["SearchString"])
    raise AssertionError(f"statement not emulated: {stmt}")


def evaluate(rules: list[dict[str, Any]], path: str, body: str) -> tuple[str, str | None]:
    """("BLOCK", rule) or ("ALLOW", None) for one request (rate limits aside: one request never trips them)."""
    labels: set[str] = set()
    for rule in sorted(rules, key=lambda r: r["Priority"]):
        stmt = rule["Statement"]
        if "RateBasedStatement" in stmt:
            continue
        if "ManagedRuleGroupStatement" in stmt:
            group = stmt["ManagedRuleGroupStatement"]
            overrides = {o["Name"]: o["ActionToUse"] for o in group.get("RuleActionOverrides", [])}
            body_rules, namespace = BODY_RULES.get(group["Name"], ((), ""))
            for name in body_rules:
                if SIGNATURES[name](body):
                    if "Count" in overrides.get(name, {}):
                        labels.add(body_label(namespace, name))
                    else:
                        return "BLOCK", f"{group['Name']}:{name}"
            continue
        if _statement(stmt, path, labels) and "Block" in rule.get("Action", {}):
            return "BLOCK", rule["Name"]
    return "ALLOW", None
