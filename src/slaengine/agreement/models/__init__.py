"""pydantic models of the agreement format: the single source of truth for its structure."""

from .agreement import REQUIRED_SECTIONS, AgreementSpec
from .common import Duration, Interval
from .conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    FieldCondition,
    NotCondition,
    ScoreCondition,
)
from .review import Action, Approval, Review
from .sections import (
    Band,
    Calendar,
    Calibration,
    Definition,
    Disposition,
    FieldSpec,
    Holiday,
    Kpi,
    LeadGuarantee,
    Party,
    PerValueRule,
    PointsRule,
    RecycleRule,
    Score,
    ServiceLevel,
    Stage,
)
from .testcase import Expectation, TestCase, TestSuite

__all__ = [
    "REQUIRED_SECTIONS",
    "Action",
    "AgreementSpec",
    "AllCondition",
    "AnyCondition",
    "Approval",
    "Band",
    "Calendar",
    "Calibration",
    "Condition",
    "Definition",
    "DefinitionCondition",
    "Disposition",
    "Duration",
    "Expectation",
    "FieldCondition",
    "FieldSpec",
    "Holiday",
    "Interval",
    "Kpi",
    "LeadGuarantee",
    "NotCondition",
    "Party",
    "PerValueRule",
    "PointsRule",
    "RecycleRule",
    "Review",
    "Score",
    "ScoreCondition",
    "ServiceLevel",
    "Stage",
    "TestCase",
    "TestSuite",
]
