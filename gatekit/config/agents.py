"""Agent gateways: MCP servers and A2A agents the gateway exposes, and the access groups that may use them.

`gateway.mcp_servers`, `gateway.agents` and `gateway.access_groups` (fields of `AgentGatewayFields`, which the
`Gateway` model inherits). Rendered into LiteLLM's own `mcp_servers` / `agents` settings by gatekit/render/agents.py.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gatekit.config.secrets import SecretRef

if TYPE_CHECKING:
    from gatekit.config.environment import Environment

AgentName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,47}$")]
GroupName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")]
WELL_KNOWN_CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")
# Targets where the gateway process may spawn a local command (stdio MCP servers). Container targets run a
# read-only image without a shell or the servers' runtimes: stdio there cannot work, so it is refused.
STDIO_TARGETS = frozenset({"local"})
# Host names that resolve inside a private network (no public DNS).
INTERNAL_SUFFIXES = (".internal", ".local", ".localdomain", ".lan", ".corp", ".intranet", ".home.arpa", ".svc")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class AccessGroup(_Strict):
    """Who may see and call the MCP servers and agents that name this group."""

    description: str = ""
    keys: list[str] = Field(default_factory=list, description="Virtual-key aliases in the group.")
    teams: list[str] = Field(default_factory=list, description="LiteLLM team ids or aliases in the group.")


class McpAuth(_Strict):
    """Credential the gateway presents to an MCP server (never the caller's key)."""

    type: Literal["bearer", "api_key", "basic", "authorization", "token"] = Field(
        default="bearer",
        description="`bearer`: `Authorization: Bearer <secret>`; `api_key`: `X-API-Key: <secret>`; `basic`: the secret "
        "is `user:password`; `authorization`: the secret is the whole Authorization value; `token`: `Authorization: "
        "token <secret>`.",
    )
    secret: SecretRef = Field(description="The credential, as a secret reference.")


def _http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http(s) URL with a host (got {url!r})")
    if parts.username or parts.password:
        raise ValueError("credentials do not belong in the URL; use `auth` with a secret reference")
    return url


class McpServer(_Strict):
    """One MCP server behind the gateway. Its tools are listed and called through `/mcp` and `/v1/mcp/…`, and in
    chat completions with an `mcp` tool whose `server_url` is `litellm_proxy/mcp/<name>`."""

    description: str = ""
    transport: Literal["http", "sse", "stdio"] = Field(
        default="http", description="`http`: streamable HTTP; `sse`: HTTP+SSE (legacy); `stdio`: a local command."
    )
    url: str | None = Field(default=None, description="Server endpoint (http and sse), e.g. http://tools:8000/mcp.")
    command: str | None = Field(default=None, description="stdio: the program to run (target `local` only).")
    args: list[str] = Field(default_factory=list, description="stdio: its arguments.")
    auth: McpAuth | None = Field(default=None, description="Credential the gateway sends to the server.")
    allowed_tools: list[str] | None = Field(
        default=None, description="Only these tools are listed and callable; empty: every tool the server offers."
    )
    access_groups: list[GroupName] = Field(
        default_factory=list, description="Access groups whose keys and teams may see and call its tools."
    )
    public: bool = Field(default=False, description="Every key may use it (access groups then add nothing).")
    timeout_seconds: float | None = Field(default=None, gt=0, le=3600, description="Per tool call.")

    @model_validator(mode="after")
    def _transport_fields(self) -> McpServer:
        if self.transport == "stdio":
            if not self.command or self.url:
                raise ValueError("transport `stdio` needs `command` (and no `url`)")
            if self.auth is not None:
                raise ValueError("`auth` is for http and sse servers; a stdio server reads its own environment")
        else:
            if not self.url or self.command or self.args:
                raise ValueError(f"transport `{self.transport}` needs `url` (and no `command`/`args`)")
            _http_url(self.url)
        return self


class AgentCapabilities(_Strict):
    streaming: bool = Field(default=True, description="The agent answers `message/stream`.")
    push_notifications: bool = False


class AgentSkill(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""
    tags: list[str] = Field(default_factory=list, description="Capabilities clients discover the agent by.")


class AgentAuth(_Strict):
    """A header the gateway adds on every call to the agent; its value comes from a secret."""

    header: HeaderName = "Authorization"
    value: SecretRef = Field(description="Secret holding the complete header value (e.g. `Bearer abc…`).")


class A2aAgent(_Strict):
    """One A2A agent behind the gateway: discovered at `/v1/agents`, its card served at
    `/a2a/<name>/.well-known/agent-card.json`, invoked with JSON-RPC `message/send` and `message/stream` at
    `/a2a/<name>`."""

    description: str = ""
    card_url: str | None = Field(
        default=None,
        description="The agent's own card, ending in /.well-known/agent-card.json (or agent.json); the gateway "
        "reads it on each invocation.",
    )
    card: dict[str, Any] | None = Field(
        default=None, description="Inline agent card (A2A AgentCard fields; needs `name` and `url`)."
    )
    protocol_version: Literal["1.0", "0.3"] = "1.0"
    capabilities: AgentCapabilities = Field(default_factory=AgentCapabilities)
    skills: list[AgentSkill] = Field(default_factory=list)
    auth: AgentAuth | None = None
    access_groups: list[GroupName] = Field(
        default_factory=list, description="Access groups whose keys and teams may discover and invoke it."
    )
    public: bool = Field(default=False, description="Visible to every key (still refused to unauthenticated callers).")

    @model_validator(mode="after")
    def _one_card(self) -> A2aAgent:
        if (self.card_url is None) == (self.card is None):
            raise ValueError("set exactly one of `card_url` or `card`")
        if self.card_url is not None:
            _http_url(self.card_url)
            if not urlsplit(self.card_url).path.endswith(WELL_KNOWN_CARD_PATHS):
                raise ValueError(f"`card_url` must end with {' or '.join(WELL_KNOWN_CARD_PATHS)}")
        if self.card is not None:
            for key in ("name", "url"):
                if not isinstance(self.card.get(key), str) or not self.card[key]:
                    raise ValueError(f"inline `card` needs a string `{key}`")
            _http_url(self.card["url"])
        return self

    @property
    def base_url(self) -> str:
        """Where the gateway sends JSON-RPC calls."""
        if self.card is not None:
            return str(self.card["url"])
        assert self.card_url is not None
        parts = urlsplit(self.card_url)
        path = parts.path
        for suffix in WELL_KNOWN_CARD_PATHS:
            path = path.removesuffix(suffix)
        return f"{parts.scheme}://{parts.netloc}{path}"

    @property
    def card_path(self) -> str | None:
        if self.card_url is None:
            return None
        return next(s for s in WELL_KNOWN_CARD_PATHS if urlsplit(self.card_url).path.endswith(s)).lstrip("/")


class AgentGatewayFields(_Strict):
    """Fields of the gateway section for agent gateways (inherited by `Gateway`)."""

    mcp_servers: dict[AgentName, McpServer] = Field(
        default_factory=dict, description="MCP servers whose tools the gateway lists and calls (name -> server)."
    )
    agents: dict[AgentName, A2aAgent] = Field(default_factory=dict, description="A2A agents (name -> agent).")
    access_groups: dict[GroupName, AccessGroup] = Field(
        default_factory=dict, description="Who may use which MCP servers and agents (group -> keys and teams)."
    )


# --- cross-field checks (called from gatekit.config.checks) -------------------------------------------------------


def is_internal_host(host: str) -> bool:
    """True when `host` can only be inside a private network: a private/loopback/link-local address, a single-label
    name, or a name under an internal suffix."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return "." not in host or host.lower().endswith(INTERNAL_SUFFIXES)
    return address.is_private or address.is_loopback or address.is_link_local


def check_agent_gateways(env: Environment) -> Iterator[tuple[str, str]]:
    gw = env.gateway
    isolated = env.target == "moat" or env.network.mode == "isolated"
    for kind, items in (("mcp_servers", gw.mcp_servers), ("agents", gw.agents)):
        for name, item in items.items():
            for j, group in enumerate(item.access_groups):
                if group not in gw.access_groups:
                    known = ", ".join(sorted(gw.access_groups)) or "none defined"
                    yield f"gateway.{kind}.{name}.access_groups.{j}", f"unknown access group `{group}` ({known})"
            if not item.public and not item.access_groups:
                yield f"gateway.{kind}.{name}", "nobody may use it: add `access_groups` or set `public: true`"
    for name, server in gw.mcp_servers.items():
        if server.transport == "stdio" and env.target not in STDIO_TARGETS:
            yield (
                f"gateway.mcp_servers.{name}.transport",
                f"stdio servers run inside the gateway process, which target `{env.target}` cannot do "
                "(read-only image, no runtimes); run the server beside the gateway and use `http`",
            )
    yield from _unexposed_agent_paths(env)
    if isolated:
        for endpoint in egress_endpoints(env):
            if not is_internal_host(endpoint.host):
                yield (
                    endpoint.path,
                    f"`{endpoint.host}` is outside the network; an isolated gateway (target `{env.target}`) reaches "
                    "only private addresses and internal names",
                )


# The client-facing paths LiteLLM serves the agent gateways on, outside the inference API's `/v1/*`: MCP clients speak
# streamable HTTP at `/mcp`, A2A clients post to `/a2a/<agent id>`. A configured server or agent whose path the front
# door does not expose would be unreachable for every client but an admin network: say so instead.
AGENT_CLIENT_PATHS = {"mcp_servers": "/mcp/*", "agents": "/a2a/*"}


def _unexposed_agent_paths(env: Environment) -> Iterator[tuple[str, str]]:
    from gatekit.config.exposure import path_exposed

    if env.target == "local":
        return  # laptops: loopback clients are admins (gateway.exposure.admin_cidrs)
    exposure = env.gateway.exposure
    for kind, pattern in AGENT_CLIENT_PATHS.items():
        if getattr(env.gateway, kind) and not path_exposed(pattern.rstrip("*"), exposure.paths):
            yield (
                "gateway.exposure.paths",
                f"`{kind}` are configured but `{pattern}` is not exposed: clients could not reach them "
                f"through the front door; add `{pattern}` (and `{pattern.rstrip('/*')}`) to gateway.exposure.paths",
            )


# --- egress -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Egress:
    """One destination the gateway must reach for an MCP server or agent."""

    kind: Literal["mcp", "agent"]
    name: str
    host: str
    port: int
    scheme: str
    path: str  # the config field it comes from

    @property
    def ip_network(self) -> str | None:
        """`a.b.c.d/32` when the host is an IP address (security-group and NetworkPolicy ipBlock rules), else None."""
        try:
            address = ipaddress.ip_address(self.host.strip("[]"))
        except ValueError:
            return None
        return f"{address}/{32 if address.version == 4 else 128}"


def _egress(kind: Literal["mcp", "agent"], name: str, url: str, path: str) -> Egress:
    parts = urlsplit(url)
    assert parts.hostname is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Egress(kind, name, parts.hostname, port, parts.scheme, path)


def egress_endpoints(env: Environment) -> list[Egress]:
    """Every (host, port) the gateway connects to for its MCP servers and agents, and nothing else: the deployment
    targets allow exactly these (security-group egress, NetworkPolicy egress)."""
    out: list[Egress] = []
    gw = env.gateway
    for name, server in sorted(gw.mcp_servers.items()):
        if server.url:
            out.append(_egress("mcp", name, server.url, f"gateway.mcp_servers.{name}.url"))
    for name, agent in sorted(gw.agents.items()):
        field = "card_url" if agent.card_url else "card.url"
        out.append(_egress("agent", name, agent.card_url or agent.base_url, f"gateway.agents.{name}.{field}"))
    unique: dict[tuple[str, str, int], Egress] = {}
    for e in out:
        unique.setdefault((e.name, e.host, e.port), e)
    return list(unique.values())
