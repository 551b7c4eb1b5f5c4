"""What real traffic looks like: conversations, long pastes, profile caps, non-chat calls to the alias."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from fastapi import HTTPException

from gatekit.routing.context import LAST_HEAD_CHARS, LAST_TAIL_CHARS, window
from gatekit.routing.engine import RoutingEngine
from gatekit.routing.litellm_hook import METADATA_KEY, MLRoutingHook
from tests.routing.conftest import spec_with

KEY = SimpleNamespace(key_alias=None, team_alias=None, team_id=None)
HARD = [
    {
        "role": "user",
        "content": "Prove that every planar graph is 5-colourable, then give an O(n) algorithm and prove "
        "its complexity bound.",
    },
    {
        "role": "assistant",
        "content": "Proof sketch: by Euler's formula every planar graph has a vertex of degree at most 5",
    },
    {"role": "user", "content": "continue"},
]
EASY = [
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "Hello! How can I help?"},
    {"role": "user", "content": "continue"},
]


@pytest.fixture(scope="module")
def engine(spec) -> RoutingEngine:
    e = RoutingEngine(
        spec_with(spec, strategy="mlp", key_profiles={"intern": "eco"}, team_profiles={"lab": "balanced"})
    )
    e.load()
    return e


def test_default_artifact_is_calibrated_to_stated_premium_shares(engine):
    cal = engine._current.artifact.params["calibration"]
    assert {p: c["premium_share"] for p, c in cal.items()} == {"eco": 0.2, "balanced": 0.4, "precision": 0.7}
    assert engine.threshold("eco") > engine.threshold("balanced") > engine.threshold("precision")


def test_conversation_context_changes_the_decision(engine):
    hard, easy = engine.decide(HARD), engine.decide(EASY)
    assert hard.score > easy.score + 0.2
    assert (hard.tier, easy.tier) == ("premium", "economy")
    with_system = [{"role": "system", "content": "You are a competition mathematician: rigorous olympiad proofs, "
                    "integrals, sums, every step computed."}, {"role": "user", "content": "go on"}]  # fmt: skip
    assert engine.decide(with_system).score > engine.decide("go on").score


def test_window_keeps_the_end_of_long_input_and_cuts_before_tokenizing():
    paste = "x" * 1_000_000 + " THE QUESTION AT THE END?"
    w = window([{"role": "user", "content": paste}])
    assert w.text.endswith("THE QUESTION AT THE END?") and w.last_chars == len(paste)
    assert len(w.text) <= LAST_HEAD_CHARS + LAST_TAIL_CHARS + 3


def test_long_paste_with_a_trivial_question_goes_economy(engine):
    line = "2026-11-29T10:{0:02d}:{0:02d}Z INFO worker-{1} GET /api/v1/items/{2} 200 {3}ms"
    log = "\n".join(line.format(i % 60, i % 7, i, i % 300) for i in range(20000))
    assert len(log) > 1_000_000
    d = engine.decide([{"role": "user", "content": log + "\n\nWhat does INFO mean here?"}])
    assert d.tier == "economy", d


def test_header_may_ask_cheaper_never_more_than_the_key_allows(engine):
    assert engine.profile_for("precision", key_alias="intern") == "eco"  # clamped to the key's profile
    assert engine.profile_for("precision", team="lab") == "balanced"
    assert engine.profile_for("eco", team="lab") == "eco"  # cheaper is allowed
    assert engine.profile_for(None, key_alias="intern") == "eco"
    assert engine.profile_for("precision") == "precision"  # no key/team profile: the header decides


def _hook_data(profile: str | None = None, **extra):
    headers = {"x-gatekit-route-profile": profile} if profile else {}
    return {"model": "auto", "proxy_server_request": {"headers": headers}, **extra}


def test_hook_clamps_an_over_cap_header_and_records_it(engine):
    hook = MLRoutingHook(engine)
    key = SimpleNamespace(key_alias="intern", team_alias=None, team_id=None)
    data = _hook_data("precision", messages=HARD)
    out = asyncio.run(hook.async_pre_call_hook(key, None, data, "acompletion"))
    route = out["metadata"][METADATA_KEY]
    assert route["profile"] == "eco" and route["requested_profile"] == "precision" and route["profile_clamped"]


@pytest.mark.parametrize("call_type", ["aembedding", "embedding", "aimage_generation", "atranscription", "arerank"])
def test_non_chat_calls_to_auto_get_400(engine, call_type):
    hook = MLRoutingHook(engine)
    with pytest.raises(HTTPException) as exc:
        asyncio.run(hook.async_pre_call_hook(KEY, None, _hook_data(input=["embed me"]), call_type))
    assert exc.value.status_code == 400 and "chat completions only" in exc.value.detail


def test_chat_to_auto_is_routed_from_the_whole_conversation(engine):
    hook = MLRoutingHook(engine)
    out = asyncio.run(hook.async_pre_call_hook(KEY, None, _hook_data(messages=HARD), "acompletion"))
    assert out["model"] == "premium"
    out = asyncio.run(hook.async_pre_call_hook(KEY, None, _hook_data(messages=EASY), "acompletion"))
    assert out["model"] == "economy"


def test_the_decision_runs_off_the_event_loop(engine, monkeypatch):
    import threading

    seen = []
    real = engine.decide

    def spy(*args, **kwargs):
        seen.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "decide", spy)
    asyncio.run(MLRoutingHook(engine).async_pre_call_hook(KEY, None, _hook_data(messages=EASY), "acompletion"))
    assert seen == [False]  # decided in a worker thread, not on the loop's thread


def test_responses_and_anthropic_shapes_are_read_as_conversations():
    from gatekit.routing.litellm_hook import conversation_of

    responses = {"instructions": "be terse", "input": [{"role": "user", "content": "hi"}]}
    assert conversation_of(responses) == [{"role": "system", "content": "be terse"}, {"role": "user", "content": "hi"}]
    anthropic = {"system": "you are a prover", "messages": [{"role": "user", "content": "go"}]}
    assert conversation_of(anthropic)[0] == {"role": "system", "content": "you are a prover"}
    assert conversation_of({"prompt": "plain"}) == [{"role": "user", "content": "plain"}]
