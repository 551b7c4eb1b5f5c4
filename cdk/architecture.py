"""CPU architecture of the gateway's compute (config `compute.architecture`): the Fargate runtime platform and the EKS
node group's AMI type and default instance family. The loader has already refused an architecture the image lacks
(gatekit/config/estate_checks.py)."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_eks as eks

from gatekit.config import Environment
from gatekit.config.environment import Compute
from gatekit.config.estate import DEFAULT_NODE_TYPES

_ECS = {"x86_64": ecs.CpuArchitecture.X86_64, "arm64": ecs.CpuArchitecture.ARM64}
_AMI = {"x86_64": eks.NodegroupAmiType.AL2023_X86_64_STANDARD, "arm64": eks.NodegroupAmiType.AL2023_ARM_64_STANDARD}


def task_platform(compute: Compute) -> ecs.RuntimePlatform:
    return ecs.RuntimePlatform(
        operating_system_family=ecs.OperatingSystemFamily.LINUX, cpu_architecture=_ECS[compute.architecture]
    )


def migrations_platform(compute: Compute) -> ecs.RuntimePlatform | None:
    """The migrations task runs the gateway image too: pinned only off the Fargate default (x86_64)."""
    return task_platform(compute) if compute.architecture != "x86_64" else None


def node_instance_type(env: Environment) -> ec2.InstanceType:
    return ec2.InstanceType(env.kubernetes.node_machine_type or DEFAULT_NODE_TYPES[env.compute.architecture])


def node_ami_type(env: Environment) -> eks.NodegroupAmiType:
    """Amazon Linux 2023 for the node architecture: Amazon Linux 2 has no EKS-optimized AMI for Kubernetes 1.33 and
    later, so the node group's default (AL2 on x86_64) is never used."""
    return _AMI[env.compute.architecture]
