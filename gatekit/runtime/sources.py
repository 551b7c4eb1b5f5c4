"""Where a replica reads its config document from: a file, S3, Google Cloud Storage or Azure Blob Storage, behind
one interface. Each source answers "unchanged" cheaply when the caller already holds the current version (ETag /
If-None-Match on object stores, a content hash for files)."""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlparse

from gatekit.config.gateway import ConfigSync


class SourceError(RuntimeError):
    """The document could not be read this time (network, permissions, missing object)."""


class SourceUnavailableError(RuntimeError):
    """The source cannot work in this process at all (e.g. its client library is not installed)."""


@dataclass(frozen=True)
class Fetched:
    body: bytes
    etag: str


class ConfigSource(Protocol):
    description: str

    def fetch(self, etag: str | None) -> Fetched | None:
        """The document, or None when its etag equals `etag`. Raises SourceError when it cannot be read."""
        ...


class FileSource:
    def __init__(self, path: str) -> None:
        self.path = Path(path.removeprefix("file://"))
        self.description = f"file {self.path}"

    def fetch(self, etag: str | None) -> Fetched | None:
        try:
            body = self.path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        digest = hashlib.sha256(body).hexdigest()
        return None if digest == etag else Fetched(body, digest)


def _bucket_and_key(uri: str, scheme: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    key = parsed.path.lstrip("/")
    if parsed.scheme != scheme or not parsed.netloc or not key:
        raise SourceUnavailableError(f"`{uri}` is not a {scheme}://bucket/key uri")
    return parsed.netloc, key


class S3Source:
    """S3 with a conditional GET (If-None-Match). The endpoint and credentials come from the standard AWS chain
    (task role, AWS_ENDPOINT_URL_S3, …)."""

    def __init__(self, uri: str) -> None:
        import boto3

        self.bucket, self.key = _bucket_and_key(uri, "s3")
        self.description = f"s3://{self.bucket}/{self.key}"
        self.client: Any = cast(Any, boto3).client("s3")  # boto3 ships no types

    def fetch(self, etag: str | None) -> Fetched | None:
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs = {"Bucket": self.bucket, "Key": self.key}
        if etag:
            kwargs["IfNoneMatch"] = etag
        try:
            response = self.client.get_object(**kwargs)
            return Fetched(response["Body"].read(), response["ETag"])
        except ClientError as exc:
            error: dict[str, Any] = cast(Any, exc).response  # botocore ships no types
            status = error.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 304 or error.get("Error", {}).get("Code") in ("304", "NotModified"):
                return None
            raise SourceError(f"{self.description}: {error.get('Error', {}).get('Code', exc)}") from exc
        except BotoCoreError as exc:
            raise SourceError(f"{self.description}: {exc}") from exc


class AzureBlobSource:
    """Azure Blob Storage with a conditional download (If-None-Match); credentials from DefaultAzureCredential
    (workload identity, managed identity)."""

    def __init__(self, uri: str) -> None:
        _require("azure.storage.blob", "azure-blob", "azure-storage-blob and azure-identity")
        _require("azure.identity", "azure-blob", "azure-storage-blob and azure-identity")
        from azure.identity import DefaultAzureCredential
        from azure.storage.blob import BlobClient

        self.description = uri
        self.client = BlobClient.from_blob_url(uri, credential=DefaultAzureCredential())

    def fetch(self, etag: str | None) -> Fetched | None:
        from azure.core import MatchConditions
        from azure.core.exceptions import AzureError, ResourceNotModifiedError

        try:
            if etag:
                downloader = self.client.download_blob(etag=etag, match_condition=MatchConditions.IfModified)
            else:
                downloader = self.client.download_blob()
            body = downloader.readall()
        except ResourceNotModifiedError:
            return None
        except AzureError as exc:
            raise SourceError(f"{self.description}: {exc}") from exc
        return Fetched(body, str(downloader.properties.etag))


class GcsSource:
    """Google Cloud Storage: a metadata read compares the object's generation with the one held, and only a new
    generation is downloaded (pinned to that generation). Credentials: Application Default Credentials (workload
    identity); STORAGE_EMULATOR_HOST points the client at an emulator."""

    def __init__(self, uri: str) -> None:
        _require("google.cloud.storage", "gcs", "google-cloud-storage")
        from google.cloud import storage

        bucket, self.key = _bucket_and_key(uri, "gs")
        self.description = f"gs://{bucket}/{self.key}"
        self.bucket: Any = cast(Any, storage).Client().bucket(bucket)  # google-cloud-storage: untyped here

    def fetch(self, etag: str | None) -> Fetched | None:
        from google.api_core.exceptions import GoogleAPIError

        try:
            blob = self.bucket.get_blob(self.key)
            if blob is None:
                raise SourceError(f"{self.description}: no such object")
            generation = str(blob.generation)
            if generation == etag:
                return None
            body = blob.download_as_bytes(if_generation_match=blob.generation)
        except GoogleAPIError as exc:
            raise SourceError(f"{self.description}: {exc}") from exc
        return Fetched(body, generation)


def _require(module: str, source: str, packages: str) -> None:
    if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
        raise SourceUnavailableError(
            f"config_sync source `{source}` needs {packages}, which this image does not include; "
            "install the gateway with the matching extra or choose another source"
        )


# Set by the deployment target when the config names no uri (e.g. the CDK config bucket, whose name is generated).
DEPLOYMENT_URI_ENV = "GATEKIT_CONFIG_URI"


def open_source(sync: ConfigSync, deployment_uri: str | None = None) -> ConfigSource | None:
    """The source for `gateway.config_sync`, or None when no uri is configured (the startup config is final).
    `config_sync.uri` wins; else the uri the deployment provides ($GATEKIT_CONFIG_URI).

    Raises SourceUnavailableError at startup for a source that cannot work here: loud, never a silent fallback."""
    uri = sync.uri or deployment_uri
    if not uri:
        return None
    if sync.source == "file":
        return FileSource(uri)
    if sync.source == "s3":
        return S3Source(uri)
    if sync.source == "azure-blob":
        return AzureBlobSource(uri)
    return GcsSource(uri)
