"""Where an artifact lives: a local directory or an s3://bucket/prefix. Each source gives a cheap `stamp` (what
changed?) and a full `fetch` (the bytes, verified by artifact.parse)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, cast

from gatekit.routing.artifact import FILES, MANIFEST, ArtifactError, ArtifactFiles

NAMES = (*FILES, MANIFEST)


class ArtifactSource(Protocol):
    uri: str

    def stamp(self) -> str: ...

    def fetch(self) -> ArtifactFiles: ...


class DirectorySource:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.uri = str(path)

    def stamp(self) -> str:
        parts: list[str] = []
        for name in NAMES:
            p = self.path / name
            st = p.stat() if p.exists() else None
            parts.append(f"{name}:{st.st_mtime_ns}:{st.st_size}" if st else f"{name}:-")
        return "|".join(parts)

    def fetch(self) -> ArtifactFiles:
        if not self.path.is_dir():
            raise ArtifactError(f"{self.path}: artifact directory does not exist")
        blobs = {name: (self.path / name).read_bytes() for name in NAMES if (self.path / name).is_file()}
        return ArtifactFiles(blobs, self.uri)


class S3Source:
    """Objects <prefix>/manifest.json, router.json, weights.safetensors. The stamp is their ETags (one LIST call)."""

    def __init__(self, uri: str, client: Any | None = None) -> None:
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise ArtifactError(f"{uri}: expected s3://bucket/prefix")
        self.uri = uri
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client: Any = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            # boto3 ships no type information (no stubs, no py.typed): its client is Any at this seam.
            self._client = cast("Any", boto3.client("s3"))  # pyright: ignore[reportUnknownMemberType]
        return self._client

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def stamp(self) -> str:
        listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.key(""))
        etags = {obj["Key"]: obj["ETag"] for obj in listing.get("Contents", [])}
        return "|".join(f"{n}:{etags.get(self.key(n), '-')}" for n in NAMES)

    def fetch(self) -> ArtifactFiles:
        blobs: dict[str, bytes] = {}
        for name in NAMES:
            try:
                blobs[name] = self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()
            except self.client.exceptions.NoSuchKey:
                continue
        if not blobs:
            raise ArtifactError(f"{self.uri}: no artifact objects under this prefix")
        return ArtifactFiles(blobs, self.uri)


def source_for(uri: str, s3_client: Any | None = None) -> ArtifactSource:
    if uri.startswith("s3://"):
        return S3Source(uri, s3_client)
    if "://" in uri:
        raise ArtifactError(f"{uri}: artifact URIs are a directory path or s3://bucket/prefix")
    return DirectorySource(Path(uri))


def upload_dir(local: Path, uri: str, s3_client: Any | None = None) -> None:
    """Deploy an artifact: copy a local artifact directory to a directory or s3:// prefix, manifest last."""
    source = source_for(uri, s3_client)
    for name in NAMES:  # NAMES ends with the manifest
        data = (local / name).read_bytes()
        if isinstance(source, S3Source):
            source.client.put_object(Bucket=source.bucket, Key=source.key(name), Body=data)
        else:
            assert isinstance(source, DirectorySource)
            source.path.mkdir(parents=True, exist_ok=True)
            tmp = source.path / f".{name}.tmp"
            tmp.write_bytes(data)
            tmp.replace(source.path / name)
