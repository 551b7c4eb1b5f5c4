"""The air-gapped AWS procedure rehearsed from the bundle alone against moto (no network): the CDK bootstrap stack
from the bundle's bootstrap template, the gateway image archive pushed into the bootstrap ECR repository (the
registry manifest computed from the archive as a push would), the synthesized templates uploaded as file assets, and
the isolated network stack created from the uploaded template. Not rehearsed (moto has no such service): the image
layers' upload itself (moto's ECR stores manifests only), and the ECS/Aurora parts of the app stacks."""

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
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield


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

    templates = sorted((bundle / "iac/cdk").glob("*.template.json"))
    assert templates
    for template in templates:
        s3.upload_file(str(template), outputs["BucketName"], f"templates/{template.name}")
    network = next(t for t in templates if t.name.endswith("-network.template.json"))
    cfn.create_stack(
        StackName="gk-moat-network",
        TemplateURL=f"https://s3.amazonaws.com/{outputs['BucketName']}/templates/{network.name}",
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    created = cfn.describe_stacks(StackName="gk-moat-network")["Stacks"][0]
    assert created["StackStatus"] == "CREATE_COMPLETE", created.get("StackStatusReason")
    kinds = {r["ResourceType"] for r in cfn.list_stack_resources(StackName="gk-moat-network")["StackResourceSummaries"]}
    assert "AWS::EC2::VPCEndpoint" in kinds and "AWS::EC2::InternetGateway" not in kinds
