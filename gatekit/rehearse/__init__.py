"""Deployment rehearsal: run what each target deploys, the way its platform runs it."""
