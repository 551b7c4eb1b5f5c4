"""Reasoned exemptions for the helper resources aws-cdk-lib creates itself (custom-resource handlers for log
retention, SDK calls, bucket deployment, default security group lockdown). Each suppression is attached to exactly
one resource, found by its construct path; nothing is suppressed app- or stack-wide."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnResource, Stack

from cdk.policy import skip_checkov, suppress_nag

HANDLER_CHECKOV = {
    "CKV_AWS_115": "CDK custom-resource handler invoked only by CloudFormation during deploys; reserved concurrency "
    "would only add a failure mode.",
    "CKV_AWS_116": "Invoked synchronously by CloudFormation, which records and surfaces every failure; a DLQ would "
    "never receive anything.",
    "CKV_AWS_117": "Calls AWS APIs only; it handles no data inside the VPC, and a VPC attachment would need NAT or "
    "endpoints in isolated networks.",
    "CKV_AWS_173": "The environment holds only non-secret settings of the CDK handler.",
}
BASIC_EXECUTION = "AWSLambdaBasicExecutionRole only lets the CDK handler write its own CloudWatch logs."


@dataclass(frozen=True)
class Exemption:
    path_fragment: str
    resource_type: str
    nag: dict[str, str]
    checkov: dict[str, str]


FRAMEWORK_EXEMPTIONS: tuple[Exemption, ...] = (
    Exemption("/Custom::VpcRestrictDefaultSGCustomResourceProvider/", "AWS::Lambda::Function", {}, HANDLER_CHECKOV),
    Exemption("/LogRetention", "AWS::Lambda::Function", {}, HANDLER_CHECKOV),
    Exemption("/LogRetention", "AWS::IAM::Role", {"AwsSolutions-IAM4": BASIC_EXECUTION}, {}),
    Exemption(
        "/LogRetention",
        "AWS::IAM::Policy",
        {
            "AwsSolutions-IAM5": "Sets retention (and nothing else) on the log group RDS creates at run time for the "
            "exported PostgreSQL log, whose name is not known before the cluster exists."
        },
        {"CKV_AWS_111": "logs:PutRetentionPolicy/DeleteRetentionPolicy on the RDS-created log group only."},
    ),
    Exemption("/AWS679f53fac002430cb0da5b7982bd2287/", "AWS::Lambda::Function", {}, HANDLER_CHECKOV),
    Exemption("/AWS679f53fac002430cb0da5b7982bd2287/", "AWS::IAM::Role", {"AwsSolutions-IAM4": BASIC_EXECUTION}, {}),
    Exemption(
        "/Custom::CDKBucketDeployment",
        "AWS::Lambda::Function",
        {
            "AwsSolutions-L1": "The runtime of BucketDeployment's handler is chosen by aws-cdk-lib and moves with the "
            "pinned aws-cdk-lib version."
        },
        HANDLER_CHECKOV,
    ),
    Exemption("/Custom::CDKBucketDeployment", "AWS::IAM::Role", {"AwsSolutions-IAM4": BASIC_EXECUTION}, {}),
    Exemption(
        "/Custom::CDKBucketDeployment",
        "AWS::IAM::Policy",
        {
            "AwsSolutions-IAM5": "BucketDeployment copies the config asset from the CDK assets bucket into the config "
            "bucket: object-level actions on those two buckets only (aws-cdk-lib's grants)."
        },
        {},
    ),
)

PROVIDER_IAM5 = (
    "The custom-resource provider framework invokes its own handler functions (and their versions, hence `:*`); "
    "aws-cdk-lib generates this policy."
)
EKS_EXEMPTIONS: tuple[Exemption, ...] = (
    Exemption(
        "/Cluster/Role/",
        "AWS::IAM::Role",
        {"AwsSolutions-IAM4": "AmazonEKSClusterPolicy is the AWS-maintained policy the EKS control plane requires."},
        {},
    ),
    Exemption(
        "/NodeGroupRole/",
        "AWS::IAM::Role",
        {
            "AwsSolutions-IAM4": "AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy, ECR read-only and "
            "CloudWatchAgentServerPolicy are the AWS-maintained policies EKS nodes and the observability add-on need."
        },
        {},
    ),
    Exemption(
        "/Cluster/KubectlHandlerRole/",
        "AWS::IAM::Role",
        {
            "AwsSolutions-IAM4": "Lambda basic and VPC execution plus ECR pull: what aws-cdk-lib's kubectl handler "
            "needs to run in the VPC next to the private API endpoint."
        },
        {},
    ),
    Exemption(
        "/Cluster/Resource/CreationRole/",
        "AWS::IAM::Policy",
        {
            "AwsSolutions-IAM5": "aws-cdk-lib's cluster-creation role calls EKS/EC2 describe APIs without "
            "resource-level permissions while the cluster does not exist yet."
        },
        {
            "CKV_AWS_111": "aws-cdk-lib's cluster-creation role: EKS create/update calls on a cluster that does not "
            "exist yet (no ARN to constrain to).",
            "CKV_AWS_109": "aws-cdk-lib's cluster-creation role passes the cluster role to EKS (iam:PassRole) at "
            "creation time.",
        },
    ),
    Exemption(
        "/@aws-cdk--aws-eks.KubectlProvider/Handler/",
        "AWS::Lambda::Function",
        {
            "AwsSolutions-L1": "The kubectl handler's runtime is chosen by aws-cdk-lib (pinned) to match the "
            "kubectl layer."
        },
        HANDLER_CHECKOV,
    ),
    Exemption("/@aws-cdk--aws-eks.", "AWS::IAM::Role", {"AwsSolutions-IAM4": BASIC_EXECUTION}, {}),
    Exemption("/@aws-cdk--aws-eks.", "AWS::IAM::Policy", {"AwsSolutions-IAM5": PROVIDER_IAM5}, {}),
    Exemption("/@aws-cdk--aws-eks.ClusterResourceProvider/", "AWS::Lambda::Function", {}, HANDLER_CHECKOV),
    Exemption("/@aws-cdk--aws-eks.KubectlProvider/Provider/", "AWS::Lambda::Function", {}, HANDLER_CHECKOV),
    # estate (issue 18): the kubectl provider of an imported (existing) cluster, `<cluster id>-KubectlProvider`.
    Exemption(
        "-KubectlProvider/Handler/",
        "AWS::Lambda::Function",
        {
            "AwsSolutions-L1": "The kubectl handler's runtime is chosen by aws-cdk-lib (pinned) to match the "
            "kubectl layer."
        },
        HANDLER_CHECKOV,
    ),
    Exemption(
        "-KubectlProvider/",
        "AWS::IAM::Role",
        {
            "AwsSolutions-IAM4": "Lambda basic and VPC execution plus ECR pull: what aws-cdk-lib's kubectl handler and "
            "its provider need to run in the VPC next to the existing cluster's private API endpoint."
        },
        {},
    ),
    Exemption("-KubectlProvider/Provider/", "AWS::IAM::Policy", {"AwsSolutions-IAM5": PROVIDER_IAM5}, {}),
    Exemption("-KubectlProvider/Provider/", "AWS::Lambda::Function", {}, HANDLER_CHECKOV),
    Exemption(
        "/waiter-state-machine/",
        "AWS::StepFunctions::StateMachine",
        {
            "AwsSolutions-SF1": "aws-cdk-lib's provider waiter only polls the isComplete handler, whose own logs "
            "record every attempt.",
            "AwsSolutions-SF2": "aws-cdk-lib's provider waiter: a deploy-time poll loop with nothing to trace.",
        },
        {},
    ),
)


def apply_framework_exemptions(stack: Stack) -> int:
    """Attach the exemptions to each matching resource of `stack`; returns how many resources were exempted."""
    count = 0
    for node in stack.node.find_all():
        if not isinstance(node, CfnResource):
            continue
        path = "/" + node.node.path
        for exemption in (*FRAMEWORK_EXEMPTIONS, *EKS_EXEMPTIONS):
            if exemption.path_fragment in path and node.cfn_resource_type == exemption.resource_type:
                for rule, reason in exemption.nag.items():
                    suppress_nag(node, rule, reason)
                for check, reason in exemption.checkov.items():
                    skip_checkov(node, check, reason)
                count += 1
    return count
