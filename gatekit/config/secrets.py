"""Secret references and the inline-secret scanner.

Config never holds a secret value. A secret is named by reference:

* ``{secret: NAME}`` — a secret in the target's store (AWS Secrets Manager name or ARN, GCP Secret Manager,
  Azure Key Vault, Kubernetes Secret). Optional ``key:`` selects a field of a JSON secret.
* ``{env: VAR}`` — a process environment variable (laptops and CI; the secret stores inject into these too).

Every reference maps to exactly one environment variable inside the gateway process (``env_var``); the LiteLLM
config only ever says ``os.environ/<env_var>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Values of secret-named fields that are explicitly "no secret needed" (local providers, the demo provider).
NO_SECRET_PLACEHOLDERS = frozenset({"not-required"})

_SECRET_FIELD = re.compile(
    r"(^|_)(api_key|apikey|password|passwd|secret|secret_key|token|master_key|salt_key|private_key|"
    r"access_key|secret_access_key|client_secret|connection_string|database_url|auth_token|session_token)$",
    re.IGNORECASE,
)

# (label, pattern) of values that look like credentials wherever they appear.
_SECRET_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an Anthropic API key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}")),
    ("an OpenAI-style API key", re.compile(r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{20,}")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a URL with an embedded password", re.compile(r"://[^/\s:@]+:[^/\s@]+@")),
)

ENV_VAR_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def env_var_for_secret(name: str) -> str:
    """Deterministic environment variable name for a store secret (ARNs and paths included)."""
    tail = name.rsplit(":", 1)[-1] if name.startswith("arn:") else name
    return "GATEKIT_SECRET_" + re.sub(r"[^A-Za-z0-9]+", "_", tail).strip("_").upper()


class SecretRef(BaseModel):
    """A reference to a secret: exactly one of ``secret`` (store) or ``env`` (environment variable)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret: str | None = Field(
        default=None,
        min_length=1,
        description="Name or ARN of a secret in the target's secret store (Secrets Manager, Secret Manager, "
        "Key Vault, Kubernetes Secret). Names are prefixed per deployment by the renderers.",
    )
    key: str | None = Field(default=None, min_length=1, description="Field of a JSON secret to use.")
    env: str | None = Field(
        default=None, pattern=ENV_VAR_NAME, description="Environment variable that holds the value (local use)."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_litellm_sugar(cls, value: Any) -> Any:
        # LiteLLM users write `os.environ/NAME`; that is a reference, not a value, so accept it.
        if isinstance(value, str) and value.startswith("os.environ/"):
            return {"env": value.removeprefix("os.environ/")}
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.secret is None) == (self.env is None):
            raise ValueError("a secret reference needs exactly one of `secret: NAME` or `env: VAR`")
        if self.key is not None and self.secret is None:
            raise ValueError("`key` selects a field of a store secret; it needs `secret:`")
        return self

    @property
    def env_var(self) -> str:
        """The environment variable the gateway process reads this secret from."""
        if self.env is not None:
            return self.env
        assert self.secret is not None
        suffix = f"_{self.key}" if self.key else ""
        return env_var_for_secret(self.secret + suffix)

    @property
    def litellm_ref(self) -> str:
        return f"os.environ/{self.env_var}"

    def describe(self) -> str:
        if self.env is not None:
            return f"env:{self.env}"
        return f"secret:{self.secret}" + (f"#{self.key}" if self.key else "")


def is_secret_field(name: str) -> bool:
    return bool(_SECRET_FIELD.search(name))


def looks_like_secret(value: str) -> str | None:
    """Return what the value looks like (e.g. 'an AWS access key id') or None."""
    for label, pattern in _SECRET_VALUE_PATTERNS:
        if pattern.search(value):
            return label
    return None


def is_secret_ref_shape(value: Any) -> bool:
    if not isinstance(value, dict) or not value:
        return False
    keys = set(cast(dict[str, Any], value))
    return keys <= {"secret", "key", "env"} and ("secret" in keys or "env" in keys)


def find_inline_secrets(tree: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (dotted path, reason) for every inline secret value in a raw config tree."""
    if isinstance(tree, dict):
        mapping = cast(dict[Any, Any], tree)
        is_ref = is_secret_ref_shape(mapping)
        for key, value in mapping.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and is_secret_field(str(key)) and not is_ref:
                if value in NO_SECRET_PLACEHOLDERS or value.startswith("os.environ/"):
                    continue
                yield (
                    child,
                    (
                        "inline secret value; reference it instead: `{secret: NAME}` (secret store) or `{env: VAR}`"
                        " (or `not-required` for providers without a key)"
                    ),
                )
                continue
            yield from find_inline_secrets(value, child)
    elif isinstance(tree, list):
        for i, item in enumerate(cast(list[Any], tree)):
            yield from find_inline_secrets(item, f"{path}.{i}" if path else str(i))
    elif isinstance(tree, str):
        label = looks_like_secret(tree)
        if label:
            yield path, f"value looks like {label}; secrets must be references (`{{secret: NAME}}` or `{{env: VAR}}`)"
