"""The canonical form of an agreement: its digest, and a canonical YAML dump that reloads as-is.

The digest is taken over the validated models, not the files, so comments, key
order, quoting, defaults written out or left implicit, and the split into files
do not change it; any change of meaning does.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import yaml

from .models import AgreementSpec, Review, TestSuite

SCHEMA_HEADER = "# yaml-language-server: $schema={schema}\n"


def canonical_content(spec: AgreementSpec) -> dict[str, Any]:
    """Plain data of the agreement's meaning: defaults left out, so writing one changes nothing."""
    data: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return data


def digest(spec: AgreementSpec) -> str:
    """`sha256:<hex>` of the canonical content, stable across formatting and file splits."""
    payload = orjson.dumps(canonical_content(spec), option=orjson.OPT_SORT_KEYS)
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def short_digest(value: str) -> str:
    return value.removeprefix("sha256:")[:12]


def to_yaml(data: Any) -> str:
    """YAML the strict loader reads back as the same data (PyYAML quotes anything ambiguous)."""
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False,
                               width=100)
    return text


def dump_agreement(spec: AgreementSpec, schema_ref: str = "../schema/agreement.schema.json") -> str:
    """The whole agreement as one canonical YAML file."""
    return SCHEMA_HEADER.format(schema=schema_ref) + to_yaml(canonical_content(spec))


def dump_review(review: Review, schema_ref: str = "../../schema/review.schema.json") -> str:
    data = review.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return SCHEMA_HEADER.format(schema=schema_ref) + to_yaml(data)


def dump_tests(suite: TestSuite, schema_ref: str = "../../schema/test.schema.json") -> str:
    data = suite.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return SCHEMA_HEADER.format(schema=schema_ref) + to_yaml(data)
