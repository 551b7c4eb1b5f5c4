"""What the router reads of a request: the conversation, cut to a small window before any tokenizing.

The window keeps, in this order: the head of the system prompt, the tails of the last few earlier turns, and the last
user turn — its head and, above all, its end (a question typed after a pasted log is at the end). Every piece is
cut by characters first, so a 1 MB paste costs a slice, not a tokenizer pass over 1 MB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

SYSTEM_CHARS = 240
EARLIER_TURNS = 3
EARLIER_CHARS = 240
LAST_HEAD_CHARS = 240
LAST_TAIL_CHARS = 720
CHAT_ROLES = ("system", "developer", "user", "assistant", "tool")


def text_of(content: Any) -> str:
    """Plain text of an OpenAI message content (a string or a list of content parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [cast("Mapping[str, Any]", p) for p in cast("list[Any]", content) if isinstance(p, Mapping)]
        return " ".join(str(p.get("text", "")) for p in parts if p.get("type", "text") == "text")
    return "" if content is None else str(content)


def _head(text: str, n: int) -> str:
    return text[:n]


def _tail(text: str, n: int) -> str:
    return text[-n:] if len(text) > n else text


@dataclass(frozen=True)
class Window:
    text: str  # what the encoder reads (already cut)
    last: str  # the cut last user turn alone
    last_chars: int  # full length of the last user turn, in characters
    total_chars: int  # full length of the conversation, in characters
    turns: int  # user turns in the conversation


def window(messages: Sequence[object]) -> Window:
    """The window of an OpenAI conversation; items that are not messages (mappings) are skipped."""
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    total = 0
    for item in messages:
        if not isinstance(item, Mapping):
            continue
        m = cast("Mapping[str, Any]", item)
        role = str(m.get("role", "user"))
        text = text_of(m.get("content"))
        total += len(text)
        if role in ("system", "developer"):
            system.append(text)
        else:
            turns.append((role, text))
    last_idx = max((i for i, (role, _) in enumerate(turns) if role == "user"), default=len(turns) - 1)
    last = turns[last_idx][1] if turns else ""
    if len(last) > LAST_HEAD_CHARS + LAST_TAIL_CHARS:
        last_cut = _head(last, LAST_HEAD_CHARS) + " … " + _tail(last, LAST_TAIL_CHARS)
    else:
        last_cut = last
    earlier = [_tail(text, EARLIER_CHARS) for _, text in turns[max(0, last_idx - EARLIER_TURNS) : last_idx]]
    parts = [_head(" ".join(system), SYSTEM_CHARS)] if system else []
    parts += [*earlier, last_cut]
    return Window(
        text="\n".join(p for p in parts if p),
        last=last_cut,
        last_chars=len(last),
        total_chars=total,
        turns=sum(1 for role, _ in turns if role == "user"),
    )


def window_of_prompt(prompt: str) -> Window:
    return window([{"role": "user", "content": prompt}])
