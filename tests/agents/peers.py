"""Real peers for the agent-gateway tests, started as processes by the tests:

* `python -m tests.agents.peers mcp --port P [--token T]`: an MCP server built with the official MCP Python SDK
  (`mcp.server.mcpserver.MCPServer`, streamable HTTP at /mcp) with tools `add`, `echo` and `forbidden`;
* `python -m tests.agents.peers a2a --port P [--token T]`: an A2A agent built with the A2A Python SDK (JSON-RPC at
  /, card at /.well-known/agent-card.json) that answers `echo: <text>` as a task with a streamed artifact.

With a token, both refuse requests without `Authorization: Bearer <token>` (401). Both record the headers of every
request and return them at GET /seen, so tests can check what the gateway forwarded (trace context, auth)."""

from __future__ import annotations

import argparse
import os
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

SEEN: list[dict[str, str]] = []
TOKEN_ENV = "PEER_TOKEN"


class Recorder:
    """Records request headers; enforces the bearer token when one is set."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in ("/seen", "/health"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        SEEN.append({"path": scope["path"], **headers})
        if self.token and headers.get("authorization") != f"Bearer {self.token}":
            response = JSONResponse({"error": "peer: missing or wrong bearer token"}, status_code=401)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def seen(_: Request) -> JSONResponse:
    return JSONResponse(SEEN)


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def mcp_app() -> Starlette:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer(name="gatekit-test-tools", instructions="Arithmetic and echo tools for gatekit tests.")

    @server.tool(description="Add two integers and return the sum.")
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(description="Return the text unchanged, prefixed with `echo: `.")
    def echo(text: str) -> str:
        return f"echo: {text}"

    @server.tool(description="A tool the gateway configuration does not allow.")
    def forbidden() -> str:
        return "this must never be reachable through the gateway"

    app = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True)
    app.router.routes.extend([Route("/seen", seen), Route("/health", health)])
    return app


def a2a_app(port: int) -> Starlette:
    from a2a.helpers.proto_helpers import get_message_text, new_task_from_user_message, new_text_part
    from a2a.server.agent_execution import AgentExecutor, RequestContext
    from a2a.server.events import EventQueue
    from a2a.server.request_handlers import DefaultRequestHandler
    from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
    from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
    from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill

    class EchoExecutor(AgentExecutor):
        async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
            assert context.message is not None
            text = get_message_text(context.message)
            task = context.current_task or new_task_from_user_message(context.message)
            await event_queue.enqueue_event(task)
            updater = TaskUpdater(event_queue, task.id, task.context_id)
            await updater.start_work()
            words = f"echo: {text}".split(" ")
            for i, word in enumerate(words):
                piece = word if i == 0 else f" {word}"
                await updater.add_artifact(
                    [new_text_part(piece)], artifact_id="answer", name="answer", append=i > 0, last_chunk=False
                )
            await updater.complete()

        async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
            raise NotImplementedError("the echo agent finishes at once")

    url = f"http://127.0.0.1:{port}/"
    card = AgentCard(
        name="echo-agent",
        description="Echoes the user's text back (gatekit test peer).",
        version="1.0.0",
        supported_interfaces=[AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text"],
        default_output_modes=["text"],
        skills=[AgentSkill(id="echo", name="echo", description="Echo text", tags=["echo", "test"])],
    )
    handler = DefaultRequestHandler(agent_executor=EchoExecutor(), task_store=InMemoryTaskStore(), agent_card=card)
    routes = [
        *create_agent_card_routes(card),
        *create_agent_card_routes(card, card_url="/.well-known/agent.json"),
        *create_jsonrpc_routes(handler, rpc_url="/", enable_v0_3_compat=True),
        Route("/seen", seen),
        Route("/health", health),
    ]
    return Starlette(routes=routes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["mcp", "a2a"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    token = os.environ.get(TOKEN_ENV) or None
    app: Any = mcp_app() if args.kind == "mcp" else a2a_app(args.port)
    uvicorn.run(Recorder(app, token), host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
