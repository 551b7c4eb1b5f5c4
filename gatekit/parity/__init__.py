"""Parity with upstream LiteLLM, endpoint by endpoint (`gatekit validate --parity`)."""
