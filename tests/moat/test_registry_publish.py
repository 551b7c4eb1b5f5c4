"""The air-gapped image publishing step, rehearsed: runbooks/moat-aws-images.md runs block by block, as written, in
a network namespace with only loopback, against a local registry with TLS (a CA made here) and basic auth (user
`AWS`, the token read from a file on stdin, as `aws ecr get-login-password` is used): the ECR of an isolated
account, minus AWS.

What is real: the bundle's `publish-images`, its CloudFormation templates (the ECS task definitions' image
references are evaluated and pulled by tag and by digest), the index format and its writer (gatekit.moat.images),
the signature and MANIFEST checks, skopeo and the CNCF distribution registry. What stands in: the image archives
are small single-layer docker-archives in place of the bundle's 0.9 GB gateway image (compressing it for the push
costs minutes; the bundle carries no collector here: no registry is reachable to mirror it), re-indexed and
re-signed with the session's signing key."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cdk.images import gateway_image_tag
from gatekit.config.loader import load_environment
from gatekit.moat import images
from gatekit.moat.manifest import write_manifest
from gatekit.moat.signing import open_signer
from gatekit.render.image_tags import COLLECTOR_TAG_PREFIX, collector_tag
from tests.moat.conftest import IMAGE_REF, REPO, Bundle
from tests.moat.registry_kit import (
    ACCOUNT,
    REGION,
    ecr_repositories,
    ecs_images,
    write_htpasswd,
    write_standin_archive,
    write_tls,
)
from tests.ops.runbook_blocks import blocks, script

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("moat-bundle")]

RUNBOOK = REPO / "runbooks" / "moat-aws-images.md"
DRIVER = Path(__file__).with_name("registry_driver.py")
REPOSITORY = "gk-moat/gateway"  # what CloudFormation would name the config stack's repository
ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/"


def _index(bundle: Path) -> dict[str, tuple[str, str]]:
    lines = (bundle / images.IMAGE_INDEX).read_text().splitlines()
    return {a: (t, d) for a, t, d in (line.split("\t") for line in lines if not line.startswith("#"))}


def _kit(bundle: Bundle, dest: Path) -> Path:
    """The bundle's publisher and templates, stand-in archives under the tags the bundle build gives them, the index
    written by the bundle's own writer, MANIFEST signed with the session's key."""
    (dest / "iac" / "cdk").mkdir(parents=True)
    shutil.copy2(bundle.path / images.PUBLISHER, dest / images.PUBLISHER)
    for template in (bundle.path / "iac" / "cdk").glob("*.template.json"):
        shutil.copy2(template, dest / "iac" / "cdk" / template.name)
    collector = load_environment("moat").aws
    assert collector is not None
    tags = {
        images.GATEWAY_ARCHIVE: _index(bundle.path)[images.GATEWAY_ARCHIVE][0],
        images.COLLECTOR_ARCHIVE: collector_tag(collector.collector_image),
    }
    for archive in tags:
        write_standin_archive(dest / archive, Path(archive).stem)
    assert images.write_image_index(dest, tags).present
    write_manifest(dest, open_signer(bundle.public_key.with_name("signing.key")))
    return dest


def _flip(path: Path, marker: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[data.index(marker)] ^= 0x20
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def rehearsal(moat_bundle: Bundle, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("registry")
    kit = _kit(moat_bundle, work / "bundle")
    # Altered after signing: MANIFEST no longer matches (what step 1 would have caught, if skipped).
    tampered = work / "tampered"
    shutil.copytree(kit, tampered)
    _flip(tampered / images.GATEWAY_ARCHIVE, b"stand-in for")
    # Altered and re-indexed: MANIFEST rewritten unsigned over the altered layer; only the layer digest can tell.
    forged = work / "forged"
    shutil.copytree(kit, forged)
    _flip(forged / images.GATEWAY_ARCHIVE, b"stand-in for")
    write_manifest(forged, None)

    tls = write_tls(work / "tls")
    password = "ecr-token-" + secrets.token_urlsafe(24)
    password_file = work / "registry-password"
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    write_htpasswd(work / "htpasswd", "AWS", password)

    cdk = sorted((kit / "iac" / "cdk").glob("*.template.json"))
    refs = ecs_images(cdk, {logical: REPOSITORY for logical in ecr_repositories(cdk)})
    ours = {name: ref.removeprefix(ECR_HOST) for name, ref in refs.items() if ref.startswith(ECR_HOST)}
    login = (
        'skopeo login --authfile "$PWD/auth.json" --username AWS --password-stdin --cert-dir "$REGISTRY_CERT_DIR" '
        '"$REGISTRY" < "$REGISTRY_PASSWORD_FILE" > /dev/null'
    )
    resolve = [login]
    for name, ref in sorted(ours.items()):
        opts = '--authfile "$PWD/auth.json" --cert-dir "$REGISTRY_CERT_DIR"'
        resolve.append(
            f'd=$(skopeo inspect {opts} --format "{{{{.Digest}}}}" "docker://$REGISTRY/{ref}") && '
            f'c=$(skopeo inspect {opts} --config --raw "docker://$REGISTRY/{ref.split(":")[0]}@$d" | sha256sum) && '
            f'echo "{name} {ref} $d sha256:${{c%% *}}"'
        )
    publish = (
        '"$KIT/publish-images" --registry "$REGISTRY" --repository "$REPO_NAME" --username AWS --password-stdin '
        '--cert-dir "$REGISTRY_CERT_DIR" < "$REGISTRY_PASSWORD_FILE"'
    )
    absent = [login] + [
        f'if skopeo inspect --authfile "$PWD/auth.json" --cert-dir "$REGISTRY_CERT_DIR" '
        f'"docker://$REGISTRY/{repo}:{tag}" > /dev/null 2>&1; then echo "present {repo}:{tag}"; fi'
        for repo in ("tampered", "forged")
        for tag, _ in _index(kit).values()
    ]
    (work / "runbook.sh").write_text(script(blocks(RUNBOOK)))
    spec = {
        "work": str(work),
        **{k: tls[k] for k in ("ca", "cert", "key")},
        "htpasswd": str(work / "htpasswd"),
        "env": {
            "BUNDLE": str(kit),
            "MOAT_TRUSTED_KEY": str(moat_bundle.public_key),
            "REPOSITORY": REPOSITORY,
            "REGISTRY_PASSWORD_FILE": str(password_file),
            "REGISTRY_CERT_DIR": tls["cert_dir"],
        },
        "scripts": [
            [
                "network",
                "echo links: $(ip -o link show | cut -d: -f2 | tr -d ' ' | paste -sd,) routes: $(ip route | wc -l)",
            ],
            ["runbook", 'strace -f -qq -e trace=execve -s 4096 -o "$PWD/execve.trace" bash "$PWD/runbook.sh"'],
            ["resolve", "set -eo pipefail\n" + "\n".join(resolve)],
            ["tampered", f"KIT={tampered} REPO_NAME=tampered; {publish}"],
            ["forged", f"KIT={forged} REPO_NAME=forged; {publish}"],
            ["absent", "set -e\n" + "\n".join(absent)],
        ],
    }
    (work / "spec.json").write_text(json.dumps(spec))
    proc = subprocess.run(
        ["unshare", "--net", sys.executable, str(DRIVER), str(work / "spec.json")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "XDG_RUNTIME_DIR": str(work)},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "outcome": outcome,
        "kit": kit,
        "refs": refs,
        "ours": ours,
        "password": password,
        "execve": (work / "execve.trace").read_text(errors="replace"),
    }


def test_the_bundle_carries_the_publisher_and_an_index_of_its_archives(moat_bundle):
    publisher = moat_bundle.path / images.PUBLISHER
    assert publisher.stat().st_mode & 0o111
    index = _index(moat_bundle.path)
    gateway = moat_bundle.metadata()["components"]["gateway_image"]
    assert gateway["status"] == "present", gateway
    tag, digest = index[images.GATEWAY_ARCHIVE]
    assert tag == gateway_image_tag()  # the tag the gateway stack runs when compute.image is not set
    assert digest == images.archive_config_digest(moat_bundle.path / images.GATEWAY_ARCHIVE)
    manifest = (moat_bundle.path / "MANIFEST").read_text()
    assert f"  {images.IMAGE_INDEX}\n" in manifest and f"  {images.PUBLISHER}\n" in manifest


def test_the_runbook_publishes_every_archive_offline(rehearsal):
    outcome = rehearsal["outcome"]
    network = outcome["network"]["stdout"]
    assert network.strip() == "links: lo routes: 0", network  # loopback only, no route anywhere
    runbook = outcome["runbook"]
    assert runbook["rc"] == 0, runbook["stdout"][-2000:] + runbook["stderr"][-4000:]
    published = [line.split()[1] for line in runbook["stdout"].splitlines() if line.startswith("published ")]
    present = [line.split()[1] for line in runbook["stdout"].splitlines() if line.startswith("present ")]
    index = _index(rehearsal["kit"])
    registry = outcome["registry"]
    expected = sorted(f"{registry}/{REPOSITORY}:{tag}" for tag, _ in index.values())
    assert sorted(p.split("@")[0] for p in published) == expected
    assert sorted(present) == sorted(published)  # the Verification block's --check: same digests
    # The token went through stdin only: no process the drill started had it in its arguments.
    assert 'skopeo", ["skopeo", "copy"' in rehearsal["execve"]
    assert rehearsal["password"] not in rehearsal["execve"]


def test_template_references_resolve_to_the_archives_images(rehearsal):
    """Every image the ECS task definitions run from the stack's repository is there, by tag and by digest, and is
    exactly the archive's image (config digest). The references outside it are the build's `compute.image`."""
    lines = rehearsal["outcome"]["resolve"]
    assert lines["rc"] == 0, lines["stderr"]
    ours = rehearsal["ours"]
    assert ours, rehearsal["refs"]
    index = {tag: digest for tag, digest in _index(rehearsal["kit"]).values()}
    registry = rehearsal["outcome"]["registry"]
    published = {
        line.split()[1].split("@")[0]: line.split("@")[1]
        for line in rehearsal["outcome"]["runbook"]["stdout"].splitlines()
        if line.startswith("published ")
    }
    resolved = [line.split() for line in lines["stdout"].splitlines()]
    assert sorted(r[0] for r in resolved) == sorted(ours), lines["stdout"]
    for _name, ref, manifest_digest, config_digest in resolved:
        tag = ref.rsplit(":", 1)[1]
        assert tag in index, f"{ref}: the template runs a tag the bundle does not publish"
        assert config_digest == index[tag]  # pulled by digest: the archive's image
        assert manifest_digest == published[f"{registry}/{ref}"]
    collector = {r[1] for r in resolved}
    assert any(ref.rsplit(":", 1)[1].startswith(COLLECTOR_TAG_PREFIX) for ref in collector), collector
    outside = {ref for ref in rehearsal["refs"].values() if not ref.startswith(ECR_HOST)}
    assert outside == {IMAGE_REF}  # the gateway image the build pinned with --set compute.image=…


def test_a_tampered_archive_is_refused_and_nothing_is_pushed(rehearsal):
    outcome = rehearsal["outcome"]
    tampered = outcome["tampered"]
    assert tampered["rc"] == 1 and "published" not in tampered["stdout"]
    assert f"{images.GATEWAY_ARCHIVE}: digest mismatch: MANIFEST has sha256:" in tampered["stderr"], tampered
    assert "refusing to push anything" in tampered["stderr"]
    forged = outcome["forged"]  # MANIFEST rewritten over the altered layer: skopeo's layer digest check refuses it
    assert forged["rc"] != 0 and "published" not in forged["stdout"]
    assert "digest" in forged["stderr"].lower(), forged
    assert outcome["absent"]["rc"] == 0 and outcome["absent"]["stdout"] == "", outcome["absent"]
