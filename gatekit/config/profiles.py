"""The routing profiles a request can ask for (gateway defaults, per-team/per-key mappings, tenant settings)."""

from __future__ import annotations

from typing import Literal

Profile = Literal["eco", "balanced", "precision"]
