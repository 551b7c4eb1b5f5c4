"""gatekit Pulumi program. Everything comes from the typed config: the stack only names the environment
(`gatekit:environment`). The code lives in gatekit.clouds so it is tested like the rest of the package."""

from gatekit.clouds.program import run

run()
