"""The demo provider (`gatekit mock-llm`): an OpenAI-compatible upstream for laptops, tests and benchmarks."""
