"""The semantic checks: each a generator that yields only what it finds; the runner collects."""

from .base import Check, CheckContext
from .clocks import check_calendars, check_service_levels
from .contradictions import check_contradictions
from .examples import check_test_cases
from .kpis import check_kpis
from .lifecycle import check_dispositions, check_recycling, check_stages
from .meetings import check_cadence, check_meetings
from .operators import check_fields, check_operators
from .references import check_condition_references, check_cycles
from .reviews import check_approvals, check_digest_and_cadence, check_keys, check_versions
from .scoring import check_bands, check_score_rules

ALL_CHECKS: tuple[Check, ...] = (
    check_fields,
    check_condition_references,
    check_cycles,
    check_operators,
    check_contradictions,
    check_score_rules,
    check_bands,
    check_stages,
    check_dispositions,
    check_recycling,
    check_calendars,
    check_service_levels,
    check_kpis,
    check_keys,
    check_versions,
    check_approvals,
    check_digest_and_cadence,
    check_test_cases,
    check_meetings,
    check_cadence,
)

__all__ = ["ALL_CHECKS", "Check", "CheckContext"]
