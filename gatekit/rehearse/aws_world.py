"""The AWS resources a synthesized assembly refers to, made real on this machine: buckets, secrets and parameters in
moto (populated the way the stacks populate them: generated secret strings, the RDS-managed master secret, the
ElastiCache AUTH token), the Aurora cluster as the local PostgreSQL and the replication group as the local Redis.
Resources are created on first reference, so exactly what the templates use exists."""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from gatekit.rehearse.image import ImageFacts

# Resources whose Ref only names them in what the processes see (never dereferenced by a process here).
# Referenced by name or ARN only (the aws-eks Service names its TLS certificate in an annotation the load balancer
# controller reads; no process here dereferences it).
IDENTITY_ONLY = frozenset(
    {
        "AWS::KMS::Key",
        "AWS::ECR::Repository",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::RDS::DBCluster",
        "AWS::CertificateManager::Certificate",
    }
)


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int


@dataclass
class AwsWorld:
    """`clients(service)` returns a boto3 client bound to moto; `database` / `cache` are the local servers that stand
    in for the cluster and the replication group; `cache_password` is the Redis AUTH password."""

    moto_endpoint: str
    region: str
    image: ImageFacts
    database: Endpoint | None = None
    cache: Endpoint | None = None
    cache_password: str | None = None
    account: str = "000000000000"  # the stand-in account (the assembly's: the environment's, or this placeholder)
    created_secrets: dict[str, str] = field(default_factory=dict)  # ARN -> name
    admin_credentials: dict[str, str] = field(default_factory=dict)  # username -> password (RDS master secret)
    _refs: dict[tuple[str, str, str], str] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict)
    _stacks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def bind(self, templates: dict[str, dict[str, Any]]) -> None:
        self._stacks = templates

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3

            make_client = cast("Callable[..., Any]", boto3.client)  # boto3 ships no types
            self._clients[service] = make_client(
                service,
                endpoint_url=self.moto_endpoint,
                region_name=self.region,
                aws_access_key_id="rehearsal",
                aws_secret_access_key="rehearsal",
            )
        return self._clients[service]

    def reset(self) -> None:
        """A fresh account: drop everything an earlier deployment left in the shared moto server."""
        import httpx

        response = httpx.post(f"{self.moto_endpoint}/moto-api/reset", timeout=30)
        response.raise_for_status()
        self._refs.clear()
        self.created_secrets.clear()
        self.admin_credentials.clear()

    def populate(self) -> None:
        """Create what the stacks create on deploy, referenced or not: every Secrets Manager secret (generated value,
        or the cache AUTH token) and the RDS-managed master secret of every cluster."""
        for stack, template in self._stacks.items():
            for logical_id, resource in template.get("Resources", {}).items():
                if resource["Type"] == "AWS::SecretsManager::Secret":
                    self.ref(stack, logical_id, resource)
                elif (
                    resource["Type"] == "AWS::RDS::DBCluster"
                    and self.database is not None
                    and resource.get("Properties", {}).get("ManageMasterUserPassword")
                ):
                    self.attr(stack, logical_id, resource, "MasterUserSecret.SecretArn")

    # -- World ------------------------------------------------------------------------------------------------------
    def ref(self, stack: str, logical_id: str, resource: dict[str, Any]) -> str:
        return self._memo(stack, logical_id, "Ref", lambda: self._ref(stack, logical_id, resource))

    def attr(self, stack: str, logical_id: str, resource: dict[str, Any], attribute: str) -> str:
        return self._memo(stack, logical_id, attribute, lambda: self._attr(stack, logical_id, resource, attribute))

    def _memo(self, stack: str, logical_id: str, what: str, make: Any) -> str:
        key = (stack, logical_id, what)
        if key not in self._refs:
            self._refs[key] = make()
        return self._refs[key]

    def _ref(self, stack: str, logical_id: str, resource: dict[str, Any]) -> str:
        type_ = resource["Type"]
        props = resource.get("Properties", {})
        if type_ == "AWS::S3::Bucket":
            name = props.get("BucketName") or re.sub(r"[^a-z0-9-]", "-", f"{stack}-{logical_id}".lower())[:63]
            self.client("s3").create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region}
            ) if self.region != "us-east-1" else self.client("s3").create_bucket(Bucket=name)
            return name
        if type_ == "AWS::SecretsManager::Secret":
            name = props.get("Name") or f"{stack}-{logical_id}"
            value = self._generated_secret(stack, logical_id, props)
            arn = self.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
            self.created_secrets[arn] = name
            return arn
        if type_ == "AWS::SSM::Parameter":
            name = props.get("Name") or f"/{stack}/{logical_id}"
            return name
        if type_ == "AWS::IAM::Role":
            return props.get("RoleName") or _generated_name(stack, logical_id)
        if type_ in IDENTITY_ONLY:
            return f"{stack}-{logical_id}"  # identity only: never dereferenced by a process here
        raise ValueError(f"{stack}/{logical_id}: the rehearsal has no stand-in for a Ref to {type_}")

    def _attr(self, stack: str, logical_id: str, resource: dict[str, Any], attribute: str) -> str:
        type_ = resource["Type"]
        props = resource.get("Properties", {})
        if type_ == "AWS::RDS::DBCluster" and self.database is not None:
            if attribute == "Endpoint.Address":
                return self.database.host
            if attribute == "Endpoint.Port":
                return str(self.database.port)
            if attribute == "MasterUserSecret.SecretArn":
                username = props["MasterUsername"]
                password = _random(32)
                self.admin_credentials[username] = password
                name = f"rds!cluster-{stack}-{logical_id}".lower()
                body = json.dumps({"username": username, "password": password})
                arn = self.client("secretsmanager").create_secret(Name=name, SecretString=body)["ARN"]
                self.created_secrets[arn] = name
                return arn
        if type_ == "AWS::ElastiCache::ReplicationGroup" and self.cache is not None:
            if attribute == "PrimaryEndPoint.Address":
                return self.cache.host
            if attribute == "PrimaryEndPoint.Port":
                return str(self.cache.port)
        if attribute == "Arn":
            if type_ == "AWS::Lambda::Function":  # the custom resources' service tokens (no function runs here)
                name = props.get("FunctionName") or _generated_name(stack, logical_id)
                return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
            if type_ == "AWS::IAM::Role":
                return role_arn(self.account, props.get("Path", "/"), self.ref(stack, logical_id, resource))
            if type_ == "AWS::S3::Bucket":
                return f"arn:aws:s3:::{self.ref(stack, logical_id, resource)}"
            if type_ == "AWS::KMS::Key":
                return f"arn:aws:kms:{self.region}:000000000000:key/{stack}-{logical_id}"
            if type_ == "AWS::ECR::Repository":  # the image reference only (the rehearsal runs its venv)
                return f"arn:aws:ecr:{self.region}:000000000000:repository/{self.ref(stack, logical_id, resource)}"
        raise ValueError(f"{stack}/{logical_id}: the rehearsal has no stand-in for {type_}.{attribute}")

    def _generated_secret(self, stack: str, logical_id: str, props: dict[str, Any]) -> str:
        """The value CloudFormation would generate; for the cache AUTH token, the value the cache was created with."""
        for resource in self._stacks.get(stack, {}).get("Resources", {}).values():
            if resource["Type"] == "AWS::ElastiCache::ReplicationGroup":
                token = json.dumps(resource["Properties"].get("AuthToken", ""))
                if logical_id in token:
                    if self.cache_password is None:
                        raise ValueError("the cache AUTH token secret is used, but no local Redis was given")
                    return self.cache_password
        spec = props.get("GenerateSecretString")
        if spec is None:
            raise ValueError(f"{stack}/{logical_id}: a secret with neither a generated nor a known value")
        value = _random(int(spec.get("PasswordLength", 32)), punctuation=not spec.get("ExcludePunctuation"))
        if "GenerateStringKey" in spec:
            body = json.loads(spec.get("SecretStringTemplate", "{}"))
            body[spec["GenerateStringKey"]] = value
            return json.dumps(body)
        return value


def _generated_name(stack: str, logical_id: str) -> str:
    """The physical name CloudFormation gives an unnamed resource: stack name and logical id, each shortened so the
    name stays within 64 characters and distinct per logical id (without CloudFormation's random suffix: one
    deployment per account here)."""
    short = logical_id[:32]
    return f"{stack[: 63 - len(short)]}-{short}"


def role_arn(account: str, path: str, name: str) -> str:
    """An IAM role's ARN, as IAM forms it from the account, the role's path and its name."""
    return f"arn:aws:iam::{account}:role{path}{name}"


def _random(length: int, punctuation: bool = False) -> str:
    alphabet = string.ascii_letters + string.digits + ("!#$%&*+-.:=?@^_~" if punctuation else "")
    return "".join(secrets.choice(alphabet) for _ in range(length))
