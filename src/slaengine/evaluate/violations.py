"""`Violation`: a way a lead's record contradicts the agreement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Violation:
    """A way the lead's record contradicts the agreement (e.g. recorded as SQL, meets no SQL)."""

    code: str
    message: str
    stage: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "stage": self.stage, "message": self.message}
