"""Config: the S3 bucket every gateway replica hot-reloads its config from (versioned, KMS, TLS-only, public access
blocked, access-logged), and the config (plus router artifacts) deployed into it.

The synced document is the resolved environment (`gatekit config render --target json`): each replica validates it
with the typed model before applying it, exactly as `gatekit ops push-config` uploads it. The rendered LiteLLM config
is deployed next to it for reviewers (`litellm.yaml`); replicas never read that one."""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

import yaml
from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from cdk.access_logs import access_log_bucket
from cdk.images import gateway_image_tag, gateway_repository
from cdk.policy import skip_checkov
from cdk.props import ConfigProps, ConfigSource
from cdk.shared import StackOptions, as_interface, encryption_key
from gatekit.config import Environment
from gatekit.render.litellm import render_litellm_config
from gatekit.render.sync_document import DOCUMENT_NAME, sync_document

CONFIG_PREFIX = "gateway/"
CONFIG_KEY = CONFIG_PREFIX + DOCUMENT_NAME
LITELLM_KEY = CONFIG_PREFIX + "litellm.yaml"
ROUTER_PREFIX = "router/"


def environment_document(env: Environment) -> str:
    """What every replica syncs and validates: the one sync document (gatekit.render.sync_document)."""
    return sync_document(env).text


def rendered_config_yaml(env: Environment) -> str:
    """Exactly what the gateway loads: the LiteLLM config rendered from the typed model (secret refs only)."""
    return yaml.safe_dump(render_litellm_config(env), sort_keys=False)


def local_router_artifact(env: Environment) -> Path | None:
    """A trained router artifact given as a local path is shipped into the bucket next to the config."""
    ml = env.gateway.routing.ml
    if not ml.enabled or not ml.artifact_uri or "://" in ml.artifact_uri:
        return None
    return Path(ml.artifact_uri)


def grant_read_config(bucket: s3.IBucket, grantee: iam.IGrantable) -> None:
    """Read of the config and router prefixes only (and decrypt with the bucket key): called by the stack that owns
    the grantee, on the bucket it was handed."""
    bucket.grant_read(grantee, CONFIG_PREFIX + "*")
    bucket.grant_read(grantee, ROUTER_PREFIX + "*")


class ConfigStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, props: ConfigProps, **kwargs: Unpack[StackOptions]
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = encryption_key(self, "ConfigKey", props.basics, "gateway config bucket")
        access_logs = access_log_bucket(
            self,
            props.basics.log_retention_days,
            source="S3 server",
            archive_reason="Access logs are an audit trail of one regional bucket; replication is left to the "
            "account's log archive (organization-level).",
        )
        self.bucket = s3.Bucket(
            self,
            "ConfigBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="config-bucket/",
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        skip_checkov(
            self.bucket,
            "CKV_AWS_144",
            "The config is rendered from config/ in git and redeployed by every `cdk deploy`; a cross-region "
            "replica adds nothing a redeploy does not.",
        )
        self.deployment = s3deploy.BucketDeployment(
            self,
            "GatewayConfig",
            sources=[
                s3deploy.Source.data(CONFIG_KEY, props.document),
                s3deploy.Source.data(LITELLM_KEY, props.litellm_yaml),
            ],
            destination_bucket=self.bucket,
            prune=False,
            retain_on_delete=True,
            memory_limit=256,
        )
        artifact = props.router_artifact
        if artifact is not None:
            s3deploy.BucketDeployment(
                self,
                "RouterArtifacts",
                sources=[s3deploy.Source.asset(str(artifact.parent), exclude=["*", f"!{artifact.name}"])],
                destination_bucket=self.bucket,
                destination_key_prefix=ROUTER_PREFIX,
                prune=False,
                retain_on_delete=True,
                memory_limit=512,
            )
        self.config_uri = f"s3://{self.bucket.bucket_name}/{CONFIG_KEY}"
        self.repository = gateway_repository(self, props.ecr_repository)
        CfnOutput(
            self,
            "GatewayImageRepository",
            value=self.repository.repository_uri,
            description=f"Push the gateway image here as tag {gateway_image_tag()} before deploying the gateway stack",
        )
        CfnOutput(self, "ConfigBucketName", value=self.bucket.bucket_name)
        CfnOutput(self, "ConfigUri", value=self.config_uri, description="GATEKIT_CONFIG_URI of the gateway")

    @property
    def source(self) -> ConfigSource:
        """What the gateway stacks read: the bucket, the document's URI, the image repository."""
        return ConfigSource(
            bucket=as_interface(self.bucket, s3.IBucket), config_uri=self.config_uri, repository=self.repository
        )
