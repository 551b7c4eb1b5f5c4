"""Extract the commands of a runbook (docs/operations.md describes the convention).

- Every fenced block whose info string is `bash` is a step the drill executes, in order, in one bash session
  (`set -euo pipefail`), so variables exported by one block are seen by the next.
- `bash skip-drill: REASON` marks a block the drill cannot execute (e.g. `cdk deploy`, an interactive prompt, an API
  moto lacks). The reason is mandatory. Its `gatekit …` commands are still checked against the CLI (command path and
  option names), so even a skipped step cannot drift from the CLI.
- Any other annotation on a `bash` fence is an error; other languages (`text`, `yaml`) are not commands.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click

FENCE = re.compile(r"^```\s*(\S*)\s*(.*?)\s*$")
SKIP = re.compile(r"^skip-drill:\s*(\S.*)$")
GATEKIT_CALL = re.compile(r"(?<![\w/.-])gatekit\s+[^|;&)\"'\n]*")
REQUIRED_SECTIONS = ("## When to use", "## Preconditions", "## Steps", "## Verification", "## Rollback")


class RunbookFormatError(ValueError):
    pass


@dataclass(frozen=True)
class Block:
    runbook: Path
    line: int
    code: str
    skip_reason: str | None

    @property
    def where(self) -> str:
        return f"{self.runbook.name}:{self.line}"


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        language, annotation, start = match.group(1), match.group(2), i + 1
        end = start
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if end == len(lines):
            raise RunbookFormatError(f"{path.name}:{i + 1}: unclosed code fence")
        if language == "bash":
            skip = None
            if annotation:
                skip_match = SKIP.match(annotation)
                if not skip_match:
                    raise RunbookFormatError(
                        f"{path.name}:{i + 1}: unknown annotation `{annotation}` (only `skip-drill: REASON`)"
                    )
                skip = skip_match.group(1)
            found.append(Block(path, i + 1, "\n".join(lines[start:end]), skip))
        i = end + 1
    return found


def gatekit_calls(code: str) -> list[list[str]]:
    """Every `gatekit …` invocation in a block, as argument lists (line continuations joined)."""
    joined = code.replace("\\\n", " ")
    return [shlex.split(m.group(0)) for m in GATEKIT_CALL.finditer(joined)]


def check_call(cli: click.Group, argv: list[str]) -> str | None:
    """None when the command path and every `--option` exist in the CLI; otherwise what is wrong."""
    command: click.Command = cli
    ctx = click.Context(cli)
    rest = argv[1:]
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(ctx, rest[0])
        if sub is None:
            return f"`{' '.join(argv)}`: no command `{rest[0]}`"
        command, rest = sub, rest[1:]
    known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)} | {"--help", "-h"}
    for token in rest:
        name = token.split("=", 1)[0]
        if name.startswith("--") and name not in known:
            return f"`{' '.join(argv)}`: `{command.name}` has no option `{name}`"
    return None


def script(runbook_blocks: list[Block]) -> str:
    """One bash session running every executable block in order, announcing each on stderr."""
    parts = ["set -euo pipefail"]
    for block in runbook_blocks:
        if block.skip_reason is None:
            parts.append(f"echo '::drill {block.where}' >&2")
            parts.append(block.code)
    return "\n".join(parts) + "\n"
