"""The air-gapped AWS procedure rehearsed from the bundle alone against moto (no network): the CDK bootstrap stack
from the bundle's bootstrap template, the gateway image archive pushed into the bootstrap ECR repository (the
registry manifest computed from the archive as a push would), the synthesized templates uploaded as file assets, and
every file asset published where the templates expect it (cdk-assets' job) and each template read back from there.
Not rehearsed: the image layers' upload itself (moto's ECR stores manifests only), and creating the stacks (moto's
CloudFormation cannot create the isolated network stack: its parser fails on a KMS key's Fn::GetAtt)."""

from __future__ import annotations

import hashlib
import json
import tarfile

import boto3
import pytest
import yaml
from moto import mock_aws

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("moat-bundle")]


class CfnLoader(yaml.SafeLoader):
    """CloudFormation YAML short forms (!Ref, !Sub …) as plain mappings, to read the template here."""


CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def registry_manifest(archive) -> str:
    """The Docker v2 manifest `podman push` would send for a docker-archive: the config and layer digests."""
    with tarfile.open(archive) as tar:
        entry = json.load(tar.extractfile("manifest.json"))[0]
        config = tar.extractfile(entry["Config"]).read()
        layers = []
        for name in entry["Layers"]:
            data = tar.extractfile(name).read()
            layers.append({"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "size": len(data),
                           "digest": "sha256:" + hashlib.sha256(data).hexdigest()})  # fmt: skip
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
        "layers": layers,
    })  # fmt: skip


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)  # the moat environment's region: its stacks are pinned to it
    with mock_aws():
        yield


REGION = "us-east-1"


def publish_file_assets(cdk_dir, account: str, s3) -> dict[str, str]:
    """What the bundle's CDK CLI does before a deploy (cdk-assets): every file asset of every `*.assets.json`, zipped
    when its packaging says so, uploaded to its destination bucket and key. Returns template file -> object URL."""
    import io
    import zipfile

    urls: dict[str, str] = {}
    for manifest in sorted(cdk_dir.glob("*.assets.json")):
        for asset in json.loads(manifest.read_text())["files"].values():
            source = cdk_dir / asset["source"]["path"]
            if asset["source"]["packaging"] == "zip" and source.is_dir():
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w") as archive:
                    for path in sorted(p for p in source.rglob("*") if p.is_file()):
                        archive.write(path, path.relative_to(source).as_posix())
                body = buffer.getvalue()
            else:
                body = source.read_bytes()
            for destination in asset["destinations"].values():
                assert destination["region"] == REGION, destination
                bucket = destination["bucketName"].replace("${AWS::AccountId}", account)
                s3.put_object(Bucket=bucket, Key=destination["objectKey"], Body=body)
                urls[asset["source"]["path"]] = f"https://s3.amazonaws.com/{bucket}/{destination['objectKey']}"
    return urls


def test_bundle_carries_the_pinned_cdk_cli_and_bootstrap_template(moat_bundle):
    record = moat_bundle.metadata()["components"]["cdk_cli"]
    assert record["status"] == "present", record
    assert (moat_bundle.path / f"tools/aws-cdk-{record['version']}.tgz").stat().st_size > 1_000_000
    template = yaml.load((moat_bundle.path / "iac/cdk/bootstrap-template.yaml").read_text(), Loader=CfnLoader)
    assert "ContainerAssetsRepository" in template["Resources"] and "StagingBucket" in template["Resources"]


def test_bootstrap_push_publish_and_deploy_from_the_bundle(moat_bundle, aws):
    bundle = moat_bundle.path
    cfn, ecr, s3 = boto3.client("cloudformation"), boto3.client("ecr"), boto3.client("s3")
    cfn.create_stack(
        StackName="CDKToolkit",
        TemplateBody=(bundle / "iac/cdk/bootstrap-template.yaml").read_text(),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cfn.describe_stacks(StackName="CDKToolkit")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    gateway = moat_bundle.metadata()["components"]["gateway_image"]
    manifest = registry_manifest(bundle / gateway["paths"][0])
    pushed = ecr.put_image(repositoryName=outputs["ImageRepositoryName"], imageManifest=manifest, imageTag="0.1.0")
    assert pushed["image"]["imageId"]["imageDigest"].startswith("sha256:")
    described = ecr.describe_images(repositoryName=outputs["ImageRepositoryName"])["imageDetails"]
    assert [d["imageTags"] for d in described] == [["0.1.0"]]

    account = boto3.client("sts").get_caller_identity()["Account"]
    urls = publish_file_assets(bundle / "iac/cdk", account, s3)
    templates = sorted((bundle / "iac/cdk").glob("*.template.json"))
    assert templates and all(t.name in urls for t in templates)
    # Every stack's template is fetched back from where the deploy reads it (the bootstrap bucket), and parses.
    for template in templates:
        bucket, key = urls[template.name].removeprefix("https://s3.amazonaws.com/").split("/", 1)
        assert bucket == outputs["BucketName"]  # the bootstrap stack's bucket, as the templates' assets expect
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == template.read_bytes() and "Resources" in json.loads(body), template.name
    # Not rehearsed: creating the stacks themselves. moto's CloudFormation cannot create the isolated network stack
    # (its parser fails on the KMS key's Fn::GetAtt that the flow-log group uses); docs/moat-mode.md says so.
