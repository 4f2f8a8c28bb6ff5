"""Plain-language wording of conditions, and the generated code's map back to the YAML."""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from pathlib import Path

import pytest

import slaengine
from slaengine.agreement.describe import (
    describe,
    describe_inline,
    describe_rule,
    describe_service_level,
    describe_tree,
    list_text,
    value_text,
)
from slaengine.agreement.models.common import Duration
from slaengine.agreement.models.sections import Definition

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = slaengine.load_agreement(ROOT / "agreement")
SPEC = AGREEMENT.spec


def when(data: object) -> object:
    return Definition.model_validate({"when": data}, strict=True).when


@pytest.mark.parametrize(("condition", "text"), [
    ({"field": "employee_count", "between": [50, 5000]}, "Employee count is between 50 and 5,000"),
    ({"field": "last_activity_at", "within": "30d"}, "Last activity within the last 30 days"),
    ({"field": "last_activity_at", "older_than": "60d"}, "Last activity more than 60 days ago"),
    ({"field": "industry", "in": ["software", "fintech"]}, "Industry is one of software or fintech"),
    ({"field": "industry", "in": ["software"]}, "Industry is software"),
    ({"field": "source", "not_in": ["outbound", "purchased_list"]},
     "Lead source is none of outbound and purchased_list"),
    ({"field": "demo_requested", "eq": True}, "Demo requested: yes"),
    ({"field": "accepted_at", "exists": False}, "Accepted by sales is not recorded"),
    ({"field": "email_domain", "matches": r"\.edu$"}, "Email domain ends with `.edu`"),
    ({"score": "engagement", "gte": 40}, "Engagement score is at least 40"),
    ({"definition": "mql"}, "Is a Marketing-qualified lead"),
    ({"definition": "icp_fit"}, "Is an Ideal customer profile fit"),
    ({"not": {"definition": "excluded"}}, "Is not an Excluded contact"),
    ({"not": {"any": [{"definition": "mql"}]}}, "None of:"),
    # recorded stages by their titles; a value no stage has stays as written
    ({"field": "stage", "in": ["sal", "sql"]},
     "Lifecycle stage is one of Sales-accepted lead or Sales-qualified lead"),
    ({"field": "stage", "eq": "archived"}, "Lifecycle stage is archived"),
])
def test_describe(condition: object, text: str) -> None:
    assert describe(when(condition), SPEC) == text  # type: ignore[arg-type]


def test_tree_and_inline_forms() -> None:
    tree = when({"all": [{"field": "employee_count", "gte": 50},
                         {"not": {"any": [{"field": "industry", "eq": "retail"},
                                          {"field": "country", "eq": "US"}]}}]})
    assert describe_tree(tree, SPEC) == [  # type: ignore[arg-type]
        (0, "All of:"), (1, "Employee count is at least 50"), (1, "None of:"),
        (2, "Industry is retail"), (2, "Country is US")]
    assert describe_inline(tree, SPEC) == (  # type: ignore[arg-type]
        "(Employee count is at least 50 and not (industry is retail or country is US))")


def test_values_read_as_people_write_them() -> None:
    assert [value_text(v) for v in (5000, 0.25, 12000.0, True, Duration(2, "bd"))] == [
        "5,000", "0.25", "12,000", "yes", "2 business days"]
    assert list_text(range(20)).endswith("11 or 8 more")


def test_generated_lines_point_back_at_the_yaml() -> None:
    compiled = AGREEMENT.engine.compiled
    mql_line = next(i for i, line in enumerate(compiled.source.splitlines(), 1)
                    if line.strip().startswith("d_mql ="))
    where = compiled.location_of_line(mql_line)
    assert where is not None
    assert Path(where.file).name == "definitions.yaml"
    assert where == AGREEMENT.loaded.locate(("definitions", "mql", "when"))


def test_a_failure_inside_generated_code_shows_the_agreement_line() -> None:
    class Exploding:
        """A value whose comparison fails, as a broken custom mapping might."""

        def __ge__(self, other: object) -> bool:
            raise RuntimeError("boom")

        __le__ = __gt__ = __lt__ = __ge__

    now = datetime(2026, 11, 20, tzinfo=UTC)
    with pytest.raises(RuntimeError) as caught:
        AGREEMENT.engine.compiled.run({"employee_count": Exploding()}, now)
    text = "".join(traceback.format_exception(caught.value))
    assert "agreement/definitions.yaml:" in text  # the generated line's comment, via linecache
    assert "d_icp_fit" in text


def test_a_service_level_applying_to_a_definition_reads_as_a_sentence() -> None:
    text = describe_service_level(SPEC.service_levels["mql_first_touch"], SPEC)
    assert ", for every lead that is a Marketing-qualified lead," in text
    assert "where is" not in text


def test_score_rules_read_as_sentences() -> None:
    """`5 points per pricing page visits` was broken English; a per-value rule multiplies."""
    rules = {rule.label: describe_rule(rule, SPEC) for rule in SPEC.scores["engagement"].rules}
    assert rules["Pricing page visits"] == "5 points × pricing page visits, at most 15"
    assert rules["Requested a demo"] == "30 points when demo requested: yes"
