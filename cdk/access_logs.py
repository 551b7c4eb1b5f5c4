"""The access-log bucket an S3 bucket or a load balancer writes to (one shape for every stack)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk.policy import skip_checkov, suppress_nag


def access_log_bucket(scope: Construct, retention_days: int, *, source: str, archive_reason: str) -> s3.Bucket:
    """SSE-S3 (log delivery supports nothing else), TLS-only, versioned, expiring with the log retention.
    `source` names what writes here (for the reasoned exemptions)."""
    bucket = s3.Bucket(
        scope,
        "AccessLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[
            s3.LifecycleRule(
                expiration=Duration.days(retention_days),
                noncurrent_version_expiration=Duration.days(1),
            )
        ],
        removal_policy=RemovalPolicy.RETAIN,
    )
    loop = f"This bucket receives the {source}'s access logs; logging it to itself would loop."
    suppress_nag(bucket, "AwsSolutions-S1", loop)
    skip_checkov(bucket, "CKV_AWS_18", loop)
    skip_checkov(bucket, "CKV_AWS_145", f"{source} access logs can only be delivered to SSE-S3 encrypted buckets.")
    skip_checkov(bucket, "CKV_AWS_144", archive_reason)
    return bucket
