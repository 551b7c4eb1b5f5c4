"""The tags images run under in a private registry (one rule for the CDK templates and the moat bundle's index)."""

from __future__ import annotations

COLLECTOR_TAG_PREFIX = "aws-otel-collector-"


def collector_tag(image: str) -> str:
    """`<registry>/…/aws-otel-collector:v0.49.0` -> `aws-otel-collector-v0.49.0`, the tag the ECS template runs."""
    return COLLECTOR_TAG_PREFIX + image.rsplit(":", 1)[-1]
