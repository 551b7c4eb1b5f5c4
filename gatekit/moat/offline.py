"""Every switch that keeps LiteLLM 1.106 (and the libraries it loads) from reaching the internet.

Each entry names the outbound fetch it stops. LiteLLM 1.106 has no single offline flag, so each feature that
fetches a remote resource at start-up or request time is switched to its packaged copy one by one.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Environment variables (set in the bundle's gatekit.env, the image and the installer's launcher).
OFFLINE_ENV: dict[str, str] = {
    # litellm/__init__.py fetches model_prices_and_context_window.json from GitHub at import time.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    # anthropic_beta_headers_manager.py fetches anthropic_beta_headers_config.json from GitHub.
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    # get_blog_posts.py fetches the docs.litellm.ai RSS feed for the admin UI.
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    # public_endpoints.py fetches autorouter_presets.json from GitHub.
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    # policy_endpoints fetches policy_templates.json from GitHub.
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    # huggingface_hub / tokenizers: never reach the Hugging Face hub (tokenizers, telemetry).
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    # Prisma (database mode): engines are baked into the image; never download them at start-up.
    "PRISMA_HIDE_UPDATE_MESSAGE": "1",
    "CHECKPOINT_DISABLE": "1",
    # Telemetry and update checks stay off.
    "LITELLM_TELEMETRY": "False",
    "LITELLM_MODE": "PRODUCTION",
}

# litellm_settings for the rendered LiteLLM config. `disable_hf_tokenizer_download`: token counting for llama-3,
# llama-2, command-r models would otherwise download a tokenizer from the Hugging Face hub; with it LiteLLM counts
# with the shipped tiktoken encoding (approximate counts for those models).
OFFLINE_LITELLM_SETTINGS: dict[str, Any] = {"disable_hf_tokenizer_download": True}

# The variable LiteLLM honours for a tiktoken cache outside its package (litellm_core_utils/default_encoding.py
# overwrites TIKTOKEN_CACHE_DIR with its packaged directory unless this one is set).
TIKTOKEN_DIR_ENV = "CUSTOM_TIKTOKEN_CACHE_DIR"
TIKTOKEN_PACKAGED_DIR = "litellm/litellm_core_utils/tokenizers/"


def offline_litellm_config(rendered: dict[str, Any]) -> dict[str, Any]:
    """The rendered LiteLLM config with the offline settings merged into `litellm_settings`."""
    out = dict(rendered)
    out["litellm_settings"] = {**rendered.get("litellm_settings", {}), **OFFLINE_LITELLM_SETTINGS}
    return out


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
