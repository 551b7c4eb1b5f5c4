"""AWS CDK stacks for gatekit: together they render one typed `gatekit.config.Environment`.

`build_app(env)` composes the stacks of one environment, handing each one frozen props value (`cdk/props.py`,
ADR 0031); `app.py` (the CDK CLI entry) and `gatekit synth` both call it.
"""

from cdk.app_builder import GatekitStacks, build_app, synth_environment

__all__ = ["GatekitStacks", "build_app", "synth_environment"]
