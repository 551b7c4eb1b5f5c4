"""The gateway runtime: runs the real LiteLLM proxy app, wrapped through LiteLLM's public extension points."""
