"""The setting names the installed LiteLLM accepts in its proxy config sections, as snapshot files, and open
models built from them: any LiteLLM setting passes, a typo fails with a suggestion (the loader's `extra_forbidden`
handling gives file, line and "did you mean").

The snapshots (`litellm_<section>_fields.txt`) are generated from the installed LiteLLM by `installed_fields()`
(`python -m gatekit.config.litellm_fields` rewrites them); a test keeps them equal to the pinned LiteLLM."""

from __future__ import annotations

import inspect
import re
import sys
import types
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, create_model

SECTIONS = ("litellm_settings", "router_settings", "general_settings")
_HERE = Path(__file__).resolve().parent


def snapshot_file(section: str) -> str:
    return f"litellm_{section.removesuffix('_settings')}_settings_fields.txt"


@cache
def section_fields(section: str) -> tuple[str, ...]:
    text = resources.files("gatekit.config").joinpath(snapshot_file(section)).read_text()
    return tuple(line.strip() for line in text.splitlines() if line.strip())


class OpenSection(BaseModel):
    """Base of the generated section models: values are LiteLLM's to check; only the names are checked here."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=(), populate_by_name=True)
    gatekit_open_section: ClassVar[bool] = True  # schema.py: not expanded field by field in docs/config.md


@cache
def section_model(section: str) -> type[OpenSection]:
    reserved = set(dir(BaseModel))
    fields: dict[str, Any] = {}
    for name in section_fields(section):
        attr = f"{name}_" if name in reserved or name.startswith("_") else name
        fields[attr] = (Any, Field(default=None, alias=name if attr != name else None))
    title = "".join(part.title() for part in section.split("_"))
    model = create_model(title, __base__=OpenSection, **fields)
    model.__doc__ = (
        f"LiteLLM `{section}`, passed through as written. Names are checked against the installed LiteLLM "
        f"({snapshot_file(section)}); values are LiteLLM's to validate."
    )
    return model


def installed_fields() -> dict[str, list[str]]:
    """Compute the accepted names from the installed LiteLLM (slow: imports the proxy)."""
    import litellm
    from litellm.proxy import proxy_server
    from litellm.proxy._types import ConfigGeneralSettings
    from litellm.router import Router

    source = Path(inspect.getfile(proxy_server)).read_text()
    # litellm_settings: every key the proxy handles by name, and every module-level setting it sets with setattr.
    handled = set(re.findall(r'\bkey == "([a-z_0-9]+)"', source))
    module_settings = {
        name
        for name in dir(litellm)
        if name.islower()
        and not name.startswith("_")
        and not callable(getattr(litellm, name))
        and not isinstance(getattr(litellm, name), types.ModuleType)
    }
    # router_settings: what the proxy passes on to litellm.Router (it ignores the rest with a warning).
    managed: set[str] = set(getattr(proxy_server, "ROUTER_SETTINGS_MANAGED_OUTSIDE_CONFIG", ()))
    router = {a for a in Router.get_valid_args() if a not in managed and a != "model_list"}
    # general_settings: the typed model plus every key the proxy reads by name.
    read = set(re.findall(r'general_settings(?:\.get\(|\[)"([a-z_0-9]+)"', _proxy_sources()))
    return {
        "litellm_settings": sorted(handled | module_settings),
        "router_settings": sorted(router),
        "general_settings": sorted(set(ConfigGeneralSettings.model_fields) | read),
    }


def _proxy_sources() -> str:
    import litellm

    root = Path(inspect.getfile(litellm)).parent / "proxy"
    return "\n".join(p.read_text(errors="replace") for p in sorted(root.rglob("*.py")))


def write_snapshots(directory: Path = _HERE) -> None:
    for section, names in installed_fields().items():
        (directory / snapshot_file(section)).write_text("\n".join(names) + "\n")


if __name__ == "__main__":
    write_snapshots(Path(sys.argv[1]) if len(sys.argv) > 1 else _HERE)
