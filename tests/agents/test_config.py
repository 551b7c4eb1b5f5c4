"""Agent-gateway config: validation with file:line errors through the real CLI, rendering into LiteLLM's settings,
egress endpoints, and the per-key / per-team permissions that implement access groups."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.config import ConfigError, load_environment
from gatekit.config.agents import egress_endpoints, is_internal_host
from gatekit.render.agents import NO_AGENT, NO_MCP_GROUP, agent_id, object_permission
from gatekit.render.env import render_environment
from gatekit.render.litellm import render_litellm_config
from tests.conftest import REPO

# The agent gateways' client paths are exposed, as any non-local target with MCP servers or agents must.
GROUPS = (
    "access_groups: {research: {keys: [alice], teams: [t-research]}, ops: {keys: [bob]}}\n"
    "exposure: {paths: ['/v1/*', /mcp, '/mcp/*', '/a2a/*', /health/liveliness, /health/readiness]}"
)
SERVERS = """\
mcp_servers:
  tools:
    url: http://tools.internal:8000/mcp
    auth: {type: bearer, secret: {secret: tools-token}}
    allowed_tools: [add, echo]
    access_groups: [research]
  search:
    transport: sse
    url: https://10.0.3.4/sse
    public: true
"""
AGENTS = """\
agents:
  echo:
    card_url: http://echo.internal:9000/.well-known/agent-card.json
    auth: {header: Authorization, value: {secret: echo-auth}}
    skills: [{id: echo, name: echo, tags: [echo]}]
    access_groups: [research]
  planner:
    card: {name: planner, url: "http://10.0.9.9:7000/rpc", description: Plans things}
    capabilities: {streaming: false}
    access_groups: [ops]
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    dst = tmp_path / "config"
    shutil.copytree(REPO / "config", dst)
    return dst


def write_env(config_dir: Path, name: str, base: str, target_lines: str, gateway: str) -> Path:
    text = f"extends: {base}\n{target_lines}gateway:\n" + textwrap.indent(gateway, "  ")
    path = config_dir / "environments" / f"{name}.yaml"
    path.write_text(text)
    return path


def validate(config_dir: Path, env: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["config", "validate", "--config-dir", str(config_dir), "--env", env])
    return result.exit_code, result.output


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_full_config_renders_into_litellm_settings(config_dir: Path) -> None:
    write_env(config_dir, "agents", "moat", "", f"{GROUPS}\n{SERVERS}{AGENTS}")
    code, out = validate(config_dir, "agents")
    assert code == 0, out
    env = load_environment("agents", config_dir)
    config = render_litellm_config(env)

    tools = config["mcp_servers"]["tools"]
    assert tools["url"] == "http://tools.internal:8000/mcp" and tools["transport"] == "http"
    assert tools["auth_type"] == "bearer_token"
    assert tools["authentication_token"] == "os.environ/GATEKIT_SECRET_TOOLS_TOKEN"
    assert tools["allowed_tools"] == ["add", "echo"] and tools["access_groups"] == ["research"]
    assert tools["allow_all_keys"] is False and "traceparent" in tools["extra_headers"]
    assert config["mcp_servers"]["search"]["allow_all_keys"] is True
    assert config["mcp_servers"]["search"]["transport"] == "sse"

    agents = {a["agent_name"]: a for a in config["agents"]}
    echo = agents["echo"]
    assert echo["agent_card_params"]["url"] == "http://echo.internal:9000"
    assert echo["litellm_params"]["agent_card_path"] == ".well-known/agent-card.json"
    assert echo["static_headers"] == {"Authorization": "os.environ/GATEKIT_SECRET_ECHO_AUTH"}
    assert echo["agent_card_params"]["skills"][0]["tags"] == ["echo"]
    planner = agents["planner"]["agent_card_params"]
    assert planner["url"] == "http://10.0.9.9:7000/rpc" and planner["description"] == "Plans things"
    assert planner["capabilities"]["streaming"] is False

    # Secrets stay references: the gateway process gets them as variables from the target's store.
    rendered = render_environment(env)
    assert {"GATEKIT_SECRET_TOOLS_TOKEN", "GATEKIT_SECRET_ECHO_AUTH"} <= set(rendered.secrets)
    text = yaml.safe_dump(config)
    assert "tools-token" not in text and "echo-auth" not in text


def test_egress_lists_exactly_the_peers(config_dir: Path) -> None:
    write_env(config_dir, "agents", "moat", "", f"{GROUPS}\n{SERVERS}{AGENTS}")
    env = load_environment("agents", config_dir)
    got = {(e.kind, e.name, e.host, e.port, e.ip_network) for e in egress_endpoints(env)}
    assert got == {
        ("mcp", "tools", "tools.internal", 8000, None),
        ("mcp", "search", "10.0.3.4", 443, "10.0.3.4/32"),
        ("agent", "echo", "echo.internal", 9000, None),
        ("agent", "planner", "10.0.9.9", 7000, "10.0.9.9/32"),
    }


def test_moat_refuses_servers_outside_the_network(config_dir: Path) -> None:
    gateway = f"{GROUPS}\nmcp_servers:\n  web:\n    url: https://tools.example.com/mcp\n    public: true\n"
    path = write_env(config_dir, "agents", "moat", "", gateway)
    code, out = validate(config_dir, "agents")
    assert code == 1 and "Traceback" not in out
    line = line_of(path, "https://tools.example.com/mcp")
    assert f"agents.yaml:{line}: gateway.mcp_servers.web.url: `tools.example.com` is outside the network" in out


def test_stdio_is_refused_where_the_target_cannot_run_it(config_dir: Path) -> None:
    gateway = "mcp_servers:\n  fs:\n    transport: stdio\n    command: npx\n    args: [fs-server]\n    public: true\n"
    path = write_env(config_dir, "agents", "prod", "", gateway)
    code, out = validate(config_dir, "agents")
    assert code == 1
    assert f"agents.yaml:{line_of(path, 'transport: stdio')}: gateway.mcp_servers.fs.transport: stdio servers" in out
    # local may run it; LiteLLM's stdio switch is then rendered on.
    write_env(config_dir, "laptop", "local", "", gateway)
    code, out = validate(config_dir, "laptop")
    assert code == 0, out
    env = load_environment("laptop", config_dir)
    assert render_environment(env).plain["LITELLM_ENABLE_MCP_STDIO"] == "true"
    assert render_litellm_config(env)["mcp_servers"]["fs"] == {
        **render_litellm_config(env)["mcp_servers"]["fs"],
        "transport": "stdio",
        "command": "npx",
        "args": ["fs-server"],
    }


@pytest.mark.parametrize(
    ("gateway", "field", "words"),
    [
        (
            "mcp_servers:\n  t:\n    url: http://a.internal/mcp\n    access_groups: [nope]\n",
            "access_groups.0",
            "unknown access group `nope`",
        ),
        ("mcp_servers:\n  t:\n    url: http://a.internal/mcp\n", "gateway.mcp_servers.t", "nobody may use it"),
        ("mcp_servers:\n  t:\n    transport: sse\n    public: true\n", "gateway.mcp_servers.t", "needs `url`"),
        ("mcp_servers:\n  t:\n    url: ftp://a/mcp\n    public: true\n", "gateway.mcp_servers.t", "http(s) URL"),
        (
            "mcp_servers:\n  t:\n    url: http://a.internal/mcp\n    public: true\n"
            "    auth: {type: bearer, secret: abc}\n",
            "auth.secret",
            "",
        ),
        (
            "agents:\n  a:\n    card_url: http://a.internal/card.json\n    public: true\n",
            "gateway.agents.a",
            "must end with",
        ),
        ("agents:\n  a:\n    card: {name: a}\n    public: true\n", "gateway.agents.a", "needs a string `url`"),
        ("agents:\n  a:\n    public: true\n", "gateway.agents.a", "exactly one of `card_url` or `card`"),
        ("agents:\n  Bad Name:\n    card: {name: a, url: http://x.internal}\n    public: true\n", "gateway.agents", ""),
    ],
)
def test_bad_agent_gateway_config_names_file_line_and_field(
    config_dir: Path, gateway: str, field: str, words: str
) -> None:
    path = write_env(config_dir, "agents", "local", "", gateway)
    code, out = validate(config_dir, "agents")
    assert code == 1 and "Traceback" not in out, out
    lines = [ln for ln in out.splitlines() if str(path.name) + ":" in ln and field in ln]
    assert lines, out
    assert words in lines[0]
    assert any(f"agents.yaml:{n}:" in lines[0] for n in range(3, 8)), lines[0]


def test_inline_credentials_are_refused(config_dir: Path) -> None:
    gateway = "mcp_servers:\n  t:\n    url: http://user:pw@a.internal/mcp\n    public: true\n"
    write_env(config_dir, "agents", "local", "", gateway)
    code, out = validate(config_dir, "agents")
    assert code == 1 and "pw@" not in out.replace("user:pw@", "")
    assert "gateway.mcp_servers.t.url" in out


def test_key_and_team_permissions_follow_access_groups(config_dir: Path) -> None:
    write_env(config_dir, "agents", "moat", "", f"{GROUPS}\n{SERVERS}{AGENTS}")
    env = load_environment("agents", config_dir)
    alice = object_permission(env, key_alias="alice")
    assert alice == {"mcp_access_groups": ["research"], "agents": [agent_id("echo")]}
    assert object_permission(env, team="t-research") == alice
    bob = object_permission(env, key_alias="bob")
    # ops has no MCP server: bob sees only public servers; ops' agent only.
    assert bob == {"mcp_access_groups": [NO_MCP_GROUP], "agents": [agent_id("planner")]}
    # A key in no group gets explicit empty grants (LiteLLM treats an absent list as "everything").
    assert object_permission(env, key_alias="mallory") == {
        "mcp_access_groups": [NO_MCP_GROUP],
        "agents": [agent_id(NO_AGENT)],
    }


def test_agent_id_is_litellms() -> None:
    from litellm.proxy.agent_endpoints.agent_registry import AgentRegistry

    registry = AgentRegistry()
    assert agent_id("echo") == registry._create_agent_id({"agent_name": "echo"})


@pytest.mark.parametrize(
    ("host", "internal"),
    [
        ("10.1.2.3", True),
        ("192.168.0.9", True),
        ("127.0.0.1", True),
        ("tools", True),
        ("tools.internal", True),
        ("svc.ns.svc.cluster.local", True),
        ("8.8.8.8", False),
        ("tools.example.com", False),
    ],
)
def test_internal_hosts(host: str, internal: bool) -> None:
    assert is_internal_host(host) is internal


def test_config_error_type_is_the_shared_one(config_dir: Path) -> None:
    write_env(config_dir, "agents", "local", "", "agents:\n  a:\n    public: true\n")
    with pytest.raises(ConfigError):
        load_environment("agents", config_dir)


def test_egress_rules_for_network_policies_and_security_groups(config_dir: Path) -> None:
    from gatekit.render.agent_egress import network_policy_egress, security_group_egress

    gateway = (
        f"{GROUPS}\n{SERVERS}{AGENTS}"
        "  k8s-tools:\n    card: {name: k, url: 'http://agent.tools-ns.svc.cluster.local:8080/'}\n    public: true\n"
    )
    write_env(config_dir, "agents", "moat", "", gateway)
    env = load_environment("agents", config_dir)
    policy = network_policy_egress(env)
    assert {"ports": [{"protocol": "TCP", "port": 443}], "to": [{"ipBlock": {"cidr": "10.0.3.4/32"}}]} in policy
    selector = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "tools-ns"}}}
    assert {"ports": [{"protocol": "TCP", "port": 8080}], "to": [selector]} in policy
    assert {"ports": [{"protocol": "TCP", "port": 8000}]} in policy  # tools.internal: a name, pinned to its port
    assert len(policy) == 5

    rules = {r["description"].split(" (")[0]: r for r in security_group_egress(env)}
    assert rules["gatekit mcp search"]["cidr"] == "10.0.3.4/32"
    assert rules["gatekit mcp tools"] == {
        "cidr": env.network.cidr,
        "protocol": "tcp",
        "port": 8000,
        "description": "gatekit mcp tools (tools.internal:8000)",
    }
    assert "0.0.0.0/0" not in {r["cidr"] for r in rules.values()}  # isolated: nothing outside the network


def test_agent_gateway_changes_are_reported_as_restart_required(config_dir: Path) -> None:
    from gatekit.runtime.apply import restart_required

    write_env(config_dir, "agents", "moat", "", f"{GROUPS}\n{SERVERS}{AGENTS}")
    old = load_environment("agents", config_dir)
    new = load_environment("agents", config_dir, ["gateway.mcp_servers.tools.allowed_tools=[add]"])
    assert restart_required(old, new) == ["gateway.mcp_servers"]
    new = load_environment("agents", config_dir, ["gateway.access_groups.ops.keys=[bob, carol]"])
    assert restart_required(old, new) == ["gateway.access_groups"]


def test_agent_gateways_need_their_client_paths_exposed(config_dir: Path) -> None:
    servers = "mcp_servers:\n  tools:\n    url: http://tools.internal:8080/mcp\n    public: true\n"
    path = write_env(config_dir, "agents", "dev", "", servers)  # dev exposes the default surface only
    code, out = validate(config_dir, "agents")
    assert code == 1 and "Traceback" not in out
    assert "gateway.exposure.paths: `mcp_servers` are configured but `/mcp/*` is not exposed" in out
    path.write_text(path.read_text() + "  exposure:\n    paths: ['/v1/*', '/mcp', '/mcp/*', '/health/*']\n")
    code, out = validate(config_dir, "agents")
    assert "/mcp/*` is not exposed" not in out, out


def test_egress_rules_are_wired_into_the_rendered_network_policy_and_security_group(config_dir: Path) -> None:
    """The k8s NetworkPolicy every Kubernetes target applies, and the gateway tasks' security group in the synthesized
    network stack, carry one egress rule per MCP server / A2A agent."""
    from gatekit.render.agent_egress import network_policy_egress
    from gatekit.render.k8s import render_gateway_manifests

    write_env(config_dir, "agents", "k8s", "", f"{GROUPS}\n{SERVERS}{AGENTS}")
    env = load_environment("agents", config_dir)
    (policy,) = [m for m in render_gateway_manifests(env) if m["kind"] == "NetworkPolicy"]
    expected = network_policy_egress(env)
    assert expected and all(rule in policy["spec"]["egress"] for rule in expected)

    from cdk.app_builder import build_app, new_app

    write_env(config_dir, "agents-aws", "moat", "", f"{GROUPS}\n{SERVERS}{AGENTS}")
    app = new_app()
    stacks = build_app(app, load_environment("agents-aws", config_dir), nag=False)
    template = app.synth().get_stack_by_name(stacks.network.stack_name).template
    egress = [
        rule
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::EC2::SecurityGroup"
        for rule in resource["Properties"].get("SecurityGroupEgress", [])
    ] + [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::EC2::SecurityGroupEgress"]
    described = {r.get("Description", "") for r in egress}
    assert {"gatekit mcp tools (tools.internal:8000)", "gatekit mcp search (10.0.3.4:443)"} <= described
