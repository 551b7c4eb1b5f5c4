"""Moat mode: the offline bundle for air-gapped networks (build, manifest, signature, verification)."""
