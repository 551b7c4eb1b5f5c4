"""gatekit."""
