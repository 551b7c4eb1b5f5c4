"""Errors of `gatekit ops`: every AWS failure becomes one clear sentence — which call failed, which IAM permission it
needs, what to do — never a traceback."""

from __future__ import annotations

import re
from typing import Any, cast

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
from botocore.parsers import ResponseParserError

DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedException",
        "AuthorizationError",
        "NotAuthorized",
    }
)
CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AuthFailure",
    }
)
NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "ClusterNotFoundException",
        "ServiceNotFoundException",
        "ServiceNotActiveException",
        "DBClusterNotFoundFault",
        "DBClusterSnapshotNotFoundFault",
        "DBInstanceNotFound",
        "ReplicationGroupNotFoundFault",
        "NoSuchBucket",
        "NoSuchKey",
        "NoSuchVersion",
        "NoSuchEntity",
        "ObjectNotFound",
    }
)

# IAM action names that differ from "<signing name>:<operation name>".
_IAM_ACTION_OVERRIDES: dict[str, str] = {
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjectVersions": "s3:ListBucketVersions",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:CopyObject": "s3:GetObjectVersion + s3:PutObject",
    "s3:GetObject": "s3:GetObject (and s3:GetObjectVersion for a version id)",
}


class OpsError(Exception):
    """An operation cannot continue; the message says why and what to do. Exit code 1 unless stated."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class PermissionDenied(OpsError):
    def __init__(self, permission: str, detail: str) -> None:
        super().__init__(
            f"permission denied: this step needs the IAM permission `{permission}`; grant it to the role you run "
            f"gatekit ops with (AWS said: {detail})",
            exit_code=3,
        )
        self.permission = permission


class MissingResource(OpsError):
    def __init__(self, what: str) -> None:
        super().__init__(f"not found: {what}", exit_code=4)


def iam_action(signing_name: str, operation: str) -> str:
    """The IAM action a botocore call needs, e.g. ("ecs", "UpdateService") -> "ecs:UpdateService"."""
    action = f"{signing_name}:{operation}"
    return _IAM_ACTION_OVERRIDES.get(action, action)


def _stack_missing(code: str, message: str) -> bool:
    return code == "ValidationError" and bool(re.search(r"does not exist", message))


def translate(
    exc: BotoCoreError | ClientError | ResponseParserError, signing_name: str, operation: str, target: str = ""
) -> OpsError:
    """Map a botocore failure to the OpsError an operator can act on."""
    action = iam_action(signing_name, operation)
    where = f" ({target})" if target else ""
    if isinstance(exc, NoCredentialsError):
        return OpsError(
            f"no AWS credentials: set AWS_PROFILE (or run `aws sso login`) for a role with `{action}`; "
            f"gatekit ops found none in the standard chain",
            exit_code=3,
        )
    if isinstance(exc, ResponseParserError):
        return OpsError(
            f"`{action}`{where}: the endpoint answered with something that is not an AWS response (an emulator "
            "without this API, or a proxy error page)",
            exit_code=5,
        )
    if isinstance(exc, EndpointConnectionError):
        return OpsError(f"cannot reach the AWS endpoint for `{action}`{where}: {exc}", exit_code=5)
    if isinstance(exc, ClientError):
        response = cast("dict[str, Any]", exc.response)  # botocore ships no types
        error = response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")) or code
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in DENIED_CODES or (status == 403 and code not in CREDENTIAL_CODES):
            return PermissionDenied(action, f"{code}: {message}")
        if code in CREDENTIAL_CODES:
            return OpsError(
                f"AWS rejected the credentials ({code}) calling `{action}`: refresh them (`aws sso login`) and retry",
                exit_code=3,
            )
        if code in NOT_FOUND_CODES or code.endswith("NotFound") or code.endswith("NotFoundFault"):
            return MissingResource(f"{target or action}: {message}")
        if _stack_missing(code, message):
            return MissingResource(f"{target or 'stack'}: {message}")
        return OpsError(f"`{action}`{where} failed: {code}: {message}")
    return OpsError(f"`{action}`{where} failed: {exc}")
