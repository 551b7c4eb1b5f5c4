"""`gatekit mock-llm`: run the demo provider."""

from __future__ import annotations

import click


@click.command("mock-llm")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=4010, show_default=True, type=int)
@click.option("--latency-ms", default=0, show_default=True, type=int, help="Delay before the first byte.")
@click.option("--chunk-delay-ms", default=10, show_default=True, type=int, help="Delay between stream chunks.")
@click.option("--chunks", default=8, show_default=True, type=int, help="Chunks per streamed answer.")
def mock_llm(host: str, port: int, latency_ms: int, chunk_delay_ms: int, chunks: int) -> None:
    """Run the demo OpenAI-compatible provider (canned answers; for demos, tests and benchmarks only)."""
    import uvicorn

    from gatekit.demo.provider import DemoSettings, create_app

    app = create_app(DemoSettings(latency_ms=latency_ms, chunk_delay_ms=chunk_delay_ms, chunks=chunks))
    click.echo(f"gatekit demo provider (not a model) on http://{host}:{port}/v1", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
