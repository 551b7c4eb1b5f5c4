"""AWS CDK stacks for gatekit: every stack is a renderer of one typed `gatekit.config.Environment`.

`build_app(env)` composes the stacks of one environment; `app.py` (the CDK CLI entry) and `gatekit synth` both call it.
"""

from cdk.app_builder import GatekitStacks, build_app, synth_environment

__all__ = ["GatekitStacks", "build_app", "synth_environment"]
