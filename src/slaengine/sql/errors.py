"""`Unsupported`: what a SQL dialect cannot express exactly, named, instead of wrong SQL.

Defined beside the regex translator (`agreement.regex`), which validation also runs.
"""

from __future__ import annotations

from ..agreement.regex import Unsupported

__all__ = ["Unsupported"]
