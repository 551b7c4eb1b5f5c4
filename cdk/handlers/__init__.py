"""Lambda handlers shipped as CDK assets (each directory is one function's code)."""
