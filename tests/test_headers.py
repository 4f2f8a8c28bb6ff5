"""Comparing a lead file's columns with the columns the fields and the mapping read."""

from __future__ import annotations

import pytest

from slaengine.agreement.models.sections import FieldSpec
from slaengine.evaluate.headers import closest, compare, expected_columns, normalise, words

FIELDS = {
    "id": FieldSpec(type="string", key=True, source="lead_id"),
    "email": FieldSpec(type="string"),
    "employee_count": FieldSpec(type="integer"),
    "created_at": FieldSpec(type="datetime"),
}
MAPPING = {"id": "Id", "employee_count": "NumberOfEmployees", "created_at": "CreatedDate"}


def test_expected_columns_mapping_then_source_then_name() -> None:
    found = {e.field: e for e in expected_columns(FIELDS)}
    assert found["id"].columns == ("lead_id", "id") and found["id"].named and found["id"].key
    assert found["email"].columns == ("email",) and not found["email"].named
    mapped = {e.field: e for e in expected_columns(FIELDS, MAPPING)}
    assert mapped["id"].columns == ("Id", "id")
    assert mapped["employee_count"].column == "NumberOfEmployees"


def test_exact_header_needs_nothing_resolved() -> None:
    check = compare(expected_columns(FIELDS, MAPPING),
                    ["Id", "Email", "NumberOfEmployees", "CreatedDate"])
    assert check.resolved == {"email": "Email"}  # found without regard to case
    assert check.missing == () and not check.fatal


def test_names_match_without_regard_to_case() -> None:
    check = compare(expected_columns(FIELDS, MAPPING),
                    ["ID", "EMAIL", "NUMBEROFEMPLOYEES", "CREATEDDATE"])
    assert check.resolved == {"id": "ID", "email": "EMAIL",
                              "employee_count": "NUMBEROFEMPLOYEES", "created_at": "CREATEDDATE"}
    assert check.missing == () and not check.fatal


def test_key_absent_is_fatal_with_the_label_suggested() -> None:
    check = compare(expected_columns(FIELDS, MAPPING),
                    ["Lead ID", "NumberOfEmployees", "CreatedDate"])
    assert check.fatal and check.missing_key is not None
    assert check.suggestions(check.missing_key) == ["Lead ID"]


def test_most_named_columns_absent_is_fatal_some_is_not() -> None:
    most = compare(expected_columns(FIELDS, MAPPING), ["Id", "Employees", "Create Date"])
    assert most.fatal and [e.field for e in most.missing_named] == ["employee_count",
                                                                      "created_at"]
    some = compare(expected_columns(FIELDS, MAPPING), ["Id", "NumberOfEmployees", "Created"])
    assert not some.fatal and [e.column for e in some.missing_named] == ["CreatedDate"]


@pytest.mark.parametrize(("name", "expected"), [
    ("NumberOfEmployees", ["number", "of", "employees"]),
    ("Number of Employees", ["number", "of", "employees"]),
    ("NUMBER_OF_EMPLOYEES", ["number", "of", "employees"]),
    ("Demo_Requested__c", ["demo", "requested"]),
    ("Company / Account", ["company", "account"]),
    ("LeadID", ["lead", "id"]),
])
def test_words_of_labels_and_api_names(name: str, expected: list[str]) -> None:
    assert words(name) == expected


def test_normalise() -> None:
    assert normalise("Demo_Requested__c") == normalise("Demo Requested") == "demorequested"


@pytest.mark.parametrize(("wanted", "columns", "expected"), [
    ("Id", ["First Name", "Lead ID", "Email"], ["Lead ID"]),
    ("Lead ID", ["FirstName", "Id", "Email"], ["Id"]),
    ("Company", ["Company / Account", "Title"], ["Company / Account"]),
    ("CreatedDate", ["Create Date", "Last Activity"], ["Create Date"]),
    ("NumberOfEmployees", ["Employees", "Number of Employees"], ["Number of Employees"]),
    ("MQL_Date__c", ["Email", "Phone"], []),
])
def test_closest_columns(wanted: str, columns: list[str], expected: list[str]) -> None:
    assert closest(wanted, columns, 1) == expected
