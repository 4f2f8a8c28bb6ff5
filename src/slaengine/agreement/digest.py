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

from .models import AgreementSpec

SCHEMA_HEADER = "# yaml-language-server: $schema={schema}\n"


def canonical_content(spec: AgreementSpec) -> dict[str, Any]:
    """Plain data of the agreement's meaning: defaults left out, so writing one changes nothing."""
    data: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return data


def digest(spec: AgreementSpec) -> str:
    """`sha256:<hex>` of the canonical content, stable across formatting and file splits."""
    payload = orjson.dumps(_big_ints_as_json(canonical_content(spec)), option=orjson.OPT_SORT_KEYS)
    return "sha256:" + hashlib.sha256(payload).hexdigest()


_I64_MIN, _U64_MAX = -(2**63), 2**64 - 1


def _big_ints_as_json(value: Any) -> Any:
    """orjson refuses integers outside 64 bits: write those as JSON number text itself."""
    if isinstance(value, dict):
        return {k: _big_ints_as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_big_ints_as_json(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and not (
            _I64_MIN <= value <= _U64_MAX):
        return orjson.Fragment(str(value).encode())
    return value


def short_digest(value: str) -> str:
    return value.removeprefix("sha256:")[:12]


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, except that text holding NEL (U+0085) is double-quoted.

    With `allow_unicode`, PyYAML writes NEL as it is inside a single-quoted scalar, where YAML
    reads it as a line break and folds it into a space; double quotes escape it as `\\N`.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value,
                                   style='"' if "\x85" in value else None)


_Dumper.add_representer(str, _represent_str)


def to_yaml(data: Any) -> str:
    """YAML the strict loader reads back as the same data (PyYAML quotes anything ambiguous)."""
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                          default_flow_style=False, width=100)
    return text


def dump_agreement(spec: AgreementSpec, schema_ref: str = "../schema/agreement.schema.json") -> str:
    """The whole agreement as one canonical YAML file."""
    return SCHEMA_HEADER.format(schema=schema_ref) + to_yaml(canonical_content(spec))
