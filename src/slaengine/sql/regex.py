"""Moved to `slaengine.agreement.regex` (validation runs it too); kept for imports."""

from __future__ import annotations

from ..agreement.regex import *  # noqa: F403
from ..agreement.regex import Translated, translate

__all__ = ["Translated", "translate"]
