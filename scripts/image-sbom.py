#!/usr/bin/env python3
"""CycloneDX 1.5 SBOM of what is really in a built gateway image (docker-archive), read from its layers:
- Debian packages of the runtime base (/usr/share/gatekit/base-packages.txt of the bootstrapped base, or dpkg's
  status.d of a distroless base) and those copied from the builder (interpreter: python-runtime-packages.txt);
- tini (the builder's Debian package it was copied from);
- every Python distribution installed in /opt/gatekit/venv (its .dist-info METADATA: what pip really installed,
  so environment markers are already honoured - no torch, no pywin32);
- Prisma engine files (/opt/prisma/ENGINES.sha256), or their recorded absence.
  scripts/image-sbom.py IMAGE.tar OUT.cdx.json   (stdlib only)
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
import uuid
from email.parser import HeaderParser
from pathlib import PurePosixPath


def layer_files(archive: str) -> dict[str, bytes]:
    """The final content of the files this SBOM reads (later layers win; whiteouts honoured)."""
    wanted = re.compile(
        r"^(usr/share/gatekit/base-packages\.txt|var/lib/dpkg/status\.d/[^/]+|opt/gatekit/share/[^/]+\.txt"
        r"|opt/prisma/ENGINES\.sha256|opt/gatekit/venv/lib/python3\.11/site-packages/[^/]+\.dist-info/METADATA)$"
    )
    files: dict[str, bytes] = {}
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]
        for layer in manifest["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                for member in inner:
                    name = member.name.lstrip("./")
                    base = PurePosixPath(name).name
                    if base.startswith(".wh."):
                        gone = str(PurePosixPath(name).parent / base[4:])
                        for key in [k for k in files if k == gone or k.startswith(gone + "/")]:
                            del files[key]
                    elif member.isfile() and wanted.match(name):
                        files[name] = inner.extractfile(member).read()
    return files


def deb(name: str, version: str, arch: str, source: str) -> dict:
    return {
        "type": "library",
        "name": name,
        "version": version,
        "purl": f"pkg:deb/debian/{name}@{version}?arch={arch}&distro=debian-12",
        "properties": [{"name": "gatekit:source", "value": source}],
    }


def components(files: dict[str, bytes]) -> list[dict]:
    out: list[dict] = []
    base = files.get("usr/share/gatekit/base-packages.txt", b"").decode()
    for line in base.split():  # name_version_arch
        name, version, arch = line.split("_")
        out.append(deb(name, version, arch, "runtime base (extracted; executables other than python3.11 removed)"))
    for path, data in files.items():
        if path.startswith("var/lib/dpkg/status.d/"):
            fields = HeaderParser().parsestr(data.decode(errors="replace"))
            if fields.get("Package"):
                out.append(
                    deb(fields["Package"], fields["Version"], fields["Architecture"], "runtime base (distroless)")
                )
    for line in files.get("opt/gatekit/share/python-runtime-packages.txt", b"").decode().splitlines():
        name, version, arch = line.split()
        out.append(deb(name, version, arch, "interpreter files copied from the builder"))
    for line in files.get("opt/gatekit/share/builder-packages.txt", b"").decode().splitlines():
        name, version, arch = line.split()
        if name == "tini":
            out.append(deb(name, version, arch, "/usr/bin/tini (tini-static copied from the builder)"))
    for path, data in sorted(files.items()):
        if path.endswith(".dist-info/METADATA"):
            meta = HeaderParser().parsestr(data.decode(errors="replace"))
            name, version = meta["Name"], meta["Version"]
            out.append({"type": "library", "name": name, "version": version,
                        "purl": f"pkg:pypi/{name.lower().replace('_', '-')}@{version}"})  # fmt: skip
    engines = files.get("opt/prisma/ENGINES.sha256", b"").decode()
    for line in engines.splitlines():
        if line and not line.startswith("#"):
            digest, path = line.split(maxsplit=1)
            out.append({"type": "application", "name": PurePosixPath(path).name, "version": "baked",
                        "hashes": [{"alg": "SHA-256", "content": digest}],
                        "properties": [{"name": "gatekit:path", "value": f"/opt/prisma/{path}"}]})  # fmt: skip
    if engines.startswith("# absent"):
        out.append({"type": "application", "name": "prisma-engines", "version": "absent",
                    "properties": [{"name": "gatekit:note", "value": engines.strip("# \n")}]})  # fmt: skip
    return out


def main() -> int:
    archive, dest = sys.argv[1], sys.argv[2]
    found = components(layer_files(archive))
    if not any(c["name"] == "litellm" for c in found) or not any(c["name"] == "libc6" for c in found):
        print(f"image-sbom: {archive} has no litellm or no libc6 - not a gateway image?", file=sys.stderr)
        return 1
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {"component": {"type": "container", "name": "gatekit-gateway"}},
        "components": found,
    }
    with open(dest, "w") as fh:
        json.dump(bom, fh, indent=1)
    print(f"image-sbom: {len(found)} components -> {dest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
