"""`gatekit ops`: the Click commands over gatekit.ops (the ops library never imports the CLI)."""
