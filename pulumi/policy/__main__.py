"""The gatekit CrossGuard policy pack. The validators live in gatekit.clouds.policy (also applied by
`gatekit pulumi plan`); run with `pulumi preview --policy-pack pulumi/policy`."""

from pulumi_policy import EnforcementLevel, PolicyPack

from gatekit.clouds.policy_pack import PACK_NAME, crossguard_policies

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=crossguard_policies())
