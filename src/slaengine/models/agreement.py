"""The agreement document as a whole: the sections every file contributes, merged."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import FieldName, Identifier, IsoDate, StrictModel, Text
from .sections import (
    Calendar,
    Definition,
    Disposition,
    FieldSpec,
    Kpi,
    Party,
    ReviewPolicy,
    Score,
    ServiceLevel,
    Stage,
)

REQUIRED_SECTIONS: tuple[str, ...] = ("agreement", "version", "timezone", "parties", "fields")


class AgreementSpec(StrictModel):
    """Everything the two teams agree on; reviews and example tests live beside it."""

    agreement: Text
    version: Text
    effective: IsoDate | None = None
    description: str | None = None
    timezone: Text
    parties: Annotated[dict[Identifier, Party], Field(min_length=1)]
    review: ReviewPolicy = ReviewPolicy()
    calendars: dict[Identifier, Calendar] = {}
    fields: Annotated[dict[FieldName, FieldSpec], Field(min_length=1)]
    definitions: dict[Identifier, Definition] = {}
    scores: dict[Identifier, Score] = {}
    stage_field: FieldName = "stage"
    stages: list[Stage] = []
    service_levels: dict[Identifier, ServiceLevel] = {}
    kpis: dict[Identifier, Kpi] = {}
    dispositions: dict[Identifier, Disposition] = {}

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)
