"""Expand components.yaml into prompts.jsonl, deterministically (seeded). Run: python data/routing/build_dataset.py"""

from __future__ import annotations

import itertools
import json
import random
import re
import string
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SEED = 20261122
# Prompts per family; economy families are sampled more heavily so the mix matches assistant traffic (~70% simple).
PER_FAMILY = {"economy": 90, "premium": 40}
HELD_OUT_SHARE = 0.3
SLOT = re.compile(r"\{([a-z_]+)\}")


def expand(template: str, slots: dict[str, list[str]]) -> list[str]:
    """Every filling of a template's slots (slot values may contain slots themselves)."""
    names = [n for _, n, _, _ in string.Formatter().parse(template) if n]
    if not names:
        return [template]
    unique = list(dict.fromkeys(names))
    out: list[str] = []
    for combo in itertools.product(*(slots[n] for n in unique)):
        filled = template
        for name, value in zip(unique, combo, strict=True):
            filled = filled.replace("{" + name + "}", value)
        out.extend(expand(filled, slots) if SLOT.search(filled) else [filled])
    return out


def build(components: dict[str, Any]) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    slots = {
        k: [" ".join(str(v).split()) if "\n" not in str(v) else str(v) for v in vals]
        for k, vals in components["slots"].items()
    }
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for family in components["families"]:
        candidates = [(t_index, p) for t_index, t in enumerate(family["templates"]) for p in expand(t, slots)]
        rng.shuffle(candidates)
        picked = [(t, p) for t, p in candidates if not (p in seen or seen.add(p))][: PER_FAMILY[family["tier"]]]
        for t_index, prompt in picked:
            low, high = family["out"]
            rows.append(
                {
                    "prompt": prompt,
                    "tier": family["tier"],
                    "family": family["name"],
                    "template": f"{family['name']}/{t_index}",
                    "expected_output_tokens": rng.randint(low, high),
                }
            )
    rng.shuffle(rows)
    for index, row in enumerate(rows):
        row["id"] = f"gk-{index:05d}"
        row["split"] = "held_out" if rng.random() < HELD_OUT_SHARE else "train"
    return rows


def main() -> None:
    components = yaml.safe_load((HERE / "components.yaml").read_text())
    rows = build(components)
    keys = ["id", "prompt", "tier", "family", "template", "split", "expected_output_tokens"]
    with (HERE / "prompts.jsonl").open("w") as fh:
        for row in rows:
            fh.write(json.dumps({k: row[k] for k in keys}, ensure_ascii=False) + "\n")
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        counts[(row["split"], row["tier"])] = counts.get((row["split"], row["tier"]), 0) + 1
    print(f"{len(rows)} prompts", dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
