"""Offline copies the moat bundle carries: tiktoken's encodings out of the locked LiteLLM wheel.

The offline switches themselves (environment and LiteLLM settings) live in gatekit.render.offline."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# Where the LiteLLM wheel keeps its tiktoken encodings (each file named sha1(url)).
TIKTOKEN_PACKAGED_DIR = "litellm/litellm_core_utils/tokenizers/"


@dataclass
class TiktokenFiles:
    """tiktoken's cache holds each encoding file under sha1(url); which encodings were found, which were not."""

    shipped: dict[str, str] = field(default_factory=dict)  # encoding name -> cache file name
    missing: dict[str, str] = field(default_factory=dict)  # encoding name -> why


def tiktoken_sources() -> dict[str, list[str]]:
    """Encoding name -> the URLs tiktoken loads it from (from the installed tiktoken_ext, the locked version)."""
    import inspect
    import re

    import tiktoken_ext.openai_public as public

    out: dict[str, list[str]] = {}
    for name, constructor in public.ENCODING_CONSTRUCTORS.items():
        source = inspect.getsource(constructor)
        urls = re.findall(r'"(https://[^"]+)"', source)
        if not urls:  # e.g. o200k_harmony and p50k_edit reuse another constructor's file
            called = re.findall(r"\b(\w+_base)\(\)", source)
            urls = [u for c in called for u in out.get(c, [])]
        out[name] = urls
    return out


def cache_key(url: str) -> str:
    return hashlib.sha1(url.encode()).hexdigest()


def collect_tiktoken(litellm_wheel: Path, dest: Path) -> TiktokenFiles:
    """Copy the encodings the locked LiteLLM wheel ships into `dest` (a tiktoken cache directory) and name the
    encodings that are not available offline."""
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(litellm_wheel) as wheel:
        packaged = {
            Path(n).name: n for n in wheel.namelist() if n.startswith(TIKTOKEN_PACKAGED_DIR) and len(Path(n).name) == 40
        }
        result = TiktokenFiles()
        for name, urls in sorted(tiktoken_sources().items()):
            keys = [cache_key(u) for u in urls]
            absent = [u for u, k in zip(urls, keys, strict=True) if k not in packaged]
            if urls and not absent:
                for key in keys:
                    (dest / key).write_bytes(wheel.read(packaged[key]))
                result.shipped[name] = ",".join(keys)
            else:
                result.missing[name] = (
                    "not packaged in the locked LiteLLM wheel; tiktoken would fetch "
                    + ", ".join(absent or ["an unknown URL"])
                    + " (LiteLLM itself never loads this encoding)"
                )
    return result
