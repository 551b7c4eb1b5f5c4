"""Access groups with real tenancy on the DB-on gateway (real PostgreSQL, `gatekit migrate`, LiteLLM's management
API): keys and teams in an access group list and call the MCP server's tools and invoke the agent; keys and teams
outside it do not see them and are refused on every call (tests/agents/tenancy.py has the flows)."""

from __future__ import annotations

import pytest

from gatekit.config import load_environment
from tests.agents.tenancy import ALLOWED, DENIED, run_tenancy
from tests.db.conftest import DbGateway

# Named to run after test_gateway_db.py (its spend checks want LiteLLM's first spend cycles); run alone it pays for
# the session proxy.
pytestmark = pytest.mark.timeout(1800)


def test_access_groups_with_virtual_keys_and_teams(db_gateway: DbGateway) -> None:
    gw = db_gateway
    # The environment the gateway runs (the same overrides), as an operator holds it to grant access.
    env = load_environment("local", overrides=gw.overrides)

    def peer_seen() -> int:
        return len(gw.mcp.seen()) + len(gw.agent.seen())

    evidence = run_tenancy([gw.url], gw.master_key, env, peer_seen)
    assert len(evidence["callers"]) == len(ALLOWED) + len(DENIED)
