"""The one reader of agreement files: strict YAML with a source position for every value.

The YAML 1.1 rules PyYAML applies by default reinterpret text behind the user's
back (`NO` becomes false, `012345` an octal number, `12:30` the integer 750,
`2026-05-18` a date). Agreements are read with a resolver that knows only
`true`/`false`, `null`, decimal integers and decimal floats; everything else
stays the string the user wrote, and the models decide what it means.
"""

from __future__ import annotations

import math
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from .diagnostics import Diagnostic, Location, UsageError, error, warning

PathKey = tuple[str | int, ...]

# The folders of one-record-per-file collections, and the key each is loaded under.
RECORD_FOLDERS = {"reviews": "reviews", "tests": "tests", "meetings": "meeting_records"}

_TAG = "tag:yaml.org,2002:"
_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
# A float needs a decimal point, and its exponent a sign (`1.5`, `2.5e-3`, `1.0e+20`): the forms
# PyYAML writes and resolves. `1e5` or `1.5e3` stay text, as `yaml.safe_dump` leaves them unquoted.
_FLOAT = re.compile(r"^[-+]?(0|[1-9][0-9]*)\.[0-9]+([eE][-+][0-9]+)?$")
_NULL = re.compile(r"^(null|~|)$")
_BOOL = re.compile(r"^(true|false)$")
# The deepest agreement needs about 20 levels; past this a file is a mistake or an attack, and
# every reader after the loader (schema, models, compilers) recurses once per level.
MAX_YAML_DEPTH = 100
MAX_FILE_BYTES = 10 * 1024 * 1024  # the example agreement's largest file holds 6 kB


class _StrictResolver(BaseResolver):
    """Only the JSON-like core: no yes/no/on/off, octal, sexagesimal, dates or merge keys."""


_StrictResolver.add_implicit_resolver(_TAG + "bool", _BOOL, list("tf"))
_StrictResolver.add_implicit_resolver(_TAG + "null", _NULL, ["n", "~", ""])
_StrictResolver.add_implicit_resolver(_TAG + "int", _INT, list("-+0123456789"))
_StrictResolver.add_implicit_resolver(_TAG + "float", _FLOAT, list("-+0123456789"))


class _Refused(Exception):
    def __init__(self, code: str, message: str, mark: Any, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.mark, self.hint = code, message, mark, hint


class _StrictLoader(Reader, Scanner, Parser, Composer, _StrictResolver):
    """Composes nodes only; values are built by `_Builder`, which also records positions."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _StrictResolver.__init__(self)
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent):
            raise _Refused("yaml-alias", f"alias `*{event.anchor}` is not allowed",
                           event.start_mark, "write the value out in full; agreements are read "
                           "by people who should not have to chase references")
        if isinstance(event, ScalarEvent | CollectionStartEvent) and event.anchor is not None:
            raise _Refused("yaml-anchor", f"anchor `&{event.anchor}` is not allowed",
                           event.start_mark, "remove the anchor and write each value out in full")
        if isinstance(event, CollectionStartEvent) and self.depth >= MAX_YAML_DEPTH:
            raise _Refused("yaml-too-deep", f"values are nested more than {MAX_YAML_DEPTH} "
                           "levels deep here", event.start_mark,
                           f"an agreement needs far fewer levels; the limit is {MAX_YAML_DEPTH}")
        self.depth += 1
        try:
            node: Node | None = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        return node


@dataclass
class SourceMap:
    """Where every value (and every mapping key) of the loaded data was written."""

    values: dict[PathKey, Location] = field(default_factory=dict)
    keys: dict[PathKey, Location] = field(default_factory=dict)

    def locate(self, path: PathKey, *, key: bool = False) -> Location | None:
        """The location of `path`, or of its nearest ancestor that was written down."""
        table = self.keys if key else self.values
        for end in range(len(path), -1, -1):
            prefix = tuple(path[:end])
            if prefix in table:
                return table[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return None

    def update(self, other: SourceMap, prefix: PathKey = ()) -> None:
        for path, loc in other.values.items():
            self.values[prefix + path] = loc
        for path, loc in other.keys.items():
            self.keys[prefix + path] = loc


def _loc(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


class _Builder:
    """Turns composed nodes into plain data, refusing what the agreement format forbids."""

    def __init__(self, file: str):
        self.file = file
        self.source = SourceMap()
        self.diagnostics: list[Diagnostic] = []

    def build(self, node: Node, path: PathKey) -> Any:
        self.source.values[path] = _loc(self.file, node.start_mark)
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        raise _Refused("yaml-node", "unsupported YAML node", node.start_mark)

    def _scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == _TAG + "str":
            return text
        if tag == _TAG + "bool" and _BOOL.match(text):
            return text == "true"
        if tag == _TAG + "null" and _NULL.match(text):
            return None
        if tag == _TAG + "int" and _INT.match(text):
            try:
                return int(text)
            except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
                raise _Refused("yaml-number", f"a number of {len(text)} digits is too long",
                               node.start_mark) from None
        if tag == _TAG + "float" and _FLOAT.match(text):
            number = float(text)
            if not math.isfinite(number):
                raise _Refused("yaml-number", f"`{text}` is too large for a number",
                               node.start_mark)
            return number
        short = tag.replace(_TAG, "!!")
        if short in ("!!str", "!!int", "!!float", "!!bool", "!!null"):
            raise _Refused("yaml-tag", f"`{text}` is not a valid `{short}` value", node.start_mark)
        raise _Refused("yaml-tag", f"tag `{short}` is not allowed", node.start_mark,
                       "agreements use plain YAML values; remove the tag")

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Location] = {}
        for key_node, value_node in node.value:
            key_loc = _loc(self.file, key_node.start_mark)
            if not isinstance(key_node, ScalarNode):
                raise _Refused("yaml-key", "a mapping key must be a plain name",
                               key_node.start_mark)
            # A plain `<<` is a merge key; a quoted '<<' is only text.
            if key_node.tag == _TAG + "merge" or (key_node.value == "<<" and not key_node.style):
                raise _Refused("yaml-merge-key", "merge key `<<` is not allowed",
                               key_node.start_mark, "write the merged keys out in full")
            key = key_node.value
            if key_node.tag != _TAG + "str":
                # `true:` or `1:` as a key: keep the text, which is what the user meant.
                key = str(key_node.value)
            if key in first_seen:
                first = first_seen[key]
                self.diagnostics.append(error(
                    "duplicate-key",
                    f"duplicate key `{key}` (first defined at line {first.line}, "
                    f"column {first.col})",
                    key_loc,
                    "YAML keeps only one of them; remove or rename one",
                    related=(first,),
                ))
                continue
            first_seen[key] = key_loc
            self.source.keys[(*path, key)] = key_loc
            result[key] = self.build(value_node, (*path, key))
        return result


@dataclass
class LoadedFile:
    """One YAML file read strictly: its data (None when unreadable) and where each value sits."""

    path: Path
    data: Any
    source: SourceMap
    diagnostics: list[Diagnostic]


def parse_yaml(text: str, file: str) -> LoadedFile:
    """Parse one YAML document strictly. Never raises on bad input: problems become diagnostics."""
    builder = _Builder(file)
    try:
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
        if node is None:
            return LoadedFile(Path(file), None, builder.source, [error(
                "empty-file", "file is empty", Location(file, 1, 1),
                "remove the file or add a section to it")])
        data = builder.build(node, ())
    except _Refused as exc:
        return LoadedFile(Path(file), None, builder.source, [error(
            exc.code, exc.message, _loc(file, exc.mark), exc.hint)])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context_mark is not None and "end of stream" in problem:
            # An unclosed quote or bracket: where it opened helps, the end of the file does not.
            mark = exc.context_mark
            opened = (exc.context or "").removeprefix("while scanning a ").removeprefix(
                "while parsing a ")
            problem = f"this {opened.replace('scalar', 'value')} is never closed"
        if exc.context and problem.startswith("but "):
            problem = f"{exc.context}, {problem}"
        # PyYAML quotes tokens the Python way ('}'); show them as the rest of our messages do.
        problem = re.sub(r"'([^']*)'", r"`\1`", problem).replace("but got", "but found")
        hint = "check indentation and quoting around this point"
        if "`\\t`" in problem or "\t" in problem:
            problem = "a tab is used to indent; YAML indents with spaces only"
            hint = "replace the tab at the start of this line with spaces"
        elif re.search(r"`[\]\[{}]`", problem):
            hint = "check the brackets on this line: every `[` needs a `]`, every `{` a `}`"
        loc = _loc(file, mark) if mark is not None else Location(file)
        return LoadedFile(Path(file), None, builder.source, [error(
            "yaml-syntax", f"invalid YAML: {problem}", loc, hint)])
    except yaml.YAMLError as exc:
        return LoadedFile(Path(file), None, builder.source, [error(
            "yaml-syntax", f"invalid YAML: {exc}", Location(file, 1, 1))])
    return LoadedFile(Path(file), data, builder.source, builder.diagnostics)


def read_yaml_file(path: Path) -> LoadedFile:
    """Read and parse one file; binary or non-UTF-8 content is a diagnostic, not a crash."""
    file = str(path)
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):  # a named pipe or a device would block or never end
            return LoadedFile(path, None, SourceMap(), [error(
                "unreadable-file", "not a regular file (a named pipe, a device or a folder)",
                Location(file), "give the path of a YAML file")])
        if path.stat().st_size > MAX_FILE_BYTES:
            return LoadedFile(path, None, SourceMap(), [error(
                "file-too-large", f"file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB",
                Location(file), "an agreement file holds a few kB of YAML; is this the right "
                f"file? the limit is {MAX_FILE_BYTES // 1024 // 1024} MB")])
        raw = path.read_bytes()
    except OSError as exc:
        return LoadedFile(path, None, SourceMap(), [error(
            "unreadable-file", f"cannot read file: {exc.strerror}", Location(file))])
    try:
        if b"\x00" in raw:
            raise UnicodeDecodeError("utf-8", raw, raw.index(b"\x00"), raw.index(b"\x00") + 1,
                                     "NUL byte")
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return LoadedFile(path, None, SourceMap(), [error(
            "unreadable-file", "not a UTF-8 text file", Location(file, 1, 1),
            "agreement files are UTF-8 YAML; is this a binary file saved with a .yaml name?")])
    return parse_yaml(text, file)


@dataclass
class LoadedAgreement:
    """Every file of an agreement folder merged into one document, with one source map."""

    root: Path
    data: dict[str, Any]
    source: SourceMap
    files: list[Path]
    diagnostics: list[Diagnostic]

    def locate(self, path: PathKey, *, key: bool = False) -> Location | None:
        return self.source.locate(path, key=key)


def _yaml_files(folder: Path) -> Iterator[Path]:
    return iter(sorted(p for p in folder.glob("*.yaml") if p.is_file()))


def load_folder(root: Path | str) -> LoadedAgreement:
    """Load every `*.yaml` of an agreement folder, and one record per file of `reviews/`, `tests/`.

    Raises `UsageError` only when the folder itself cannot be read; every problem
    inside a file is returned as a diagnostic so that all of them are shown at once.
    """
    root = Path(root)
    if not root.exists():
        raise UsageError(f"{root}: agreement folder not found")
    if not root.is_dir():
        raise UsageError(f"{root}: not a folder (give the agreement folder, e.g. `agreement/`)")

    data: dict[str, Any] = {}
    source = SourceMap()
    source.values[()] = Location(str(root))  # what a finding about the whole agreement names
    diagnostics: list[Diagnostic] = []
    files: list[Path] = []
    section_origin: dict[str, Location] = {}

    for stray in sorted(root.glob("*.yml")):
        diagnostics.append(warning(
            "ignored-file", "file ignored: agreement files end in `.yaml`",
            Location(str(stray)), f"rename it to `{stray.stem}.yaml`"))

    def readable(paths: Iterator[Path]) -> Iterator[LoadedFile]:
        """Each file read, its problems noted, and only those with data handed on."""
        for path in paths:
            files.append(path)
            loaded = read_yaml_file(path)
            diagnostics.extend(loaded.diagnostics)
            if loaded.data is not None:
                yield loaded

    for loaded in readable(_yaml_files(root)):
        if not isinstance(loaded.data, dict):
            diagnostics.append(error(
                "yaml-not-mapping", "an agreement file must be a mapping of sections",
                loaded.source.locate(()),
                "start the file with a section name such as `definitions:`"))
            continue
        skipped: set[str] = set()
        for section, value in loaded.data.items():
            key_loc = loaded.source.keys.get((section,))
            if section in section_origin:
                first = section_origin[section]
                first_file = Path(first.file).relative_to(root) if Path(first.file).is_relative_to(
                    root) else first.file
                diagnostics.append(error(
                    "duplicate-section",
                    f"section `{section}` is also defined at {first_file}:{first.line}:{first.col}",
                    key_loc, "keep each section in one file"))
                skipped.add(section)
                continue
            if key_loc is not None:
                section_origin[section] = key_loc
            data[section] = value
        for table, merged in ((loaded.source.values, source.values),
                              (loaded.source.keys, source.keys)):
            for sub_path, loc in table.items():
                if sub_path and sub_path[0] not in skipped:
                    merged[sub_path] = loc

    # Meeting records go under their own key: `meetings` is also the section of the cadence.
    for folder_name, collection in RECORD_FOLDERS.items():
        folder = root / folder_name
        if not folder.is_dir():
            continue
        records: list[Any] = []
        for loaded in readable(_yaml_files(folder)):
            index = len(records)
            records.append(loaded.data)
            source.update(loaded.source, (collection, index))
        if records:
            data[collection] = records

    if not files:
        diagnostics.append(error(
            "no-agreement-files", "no `*.yaml` files in the agreement folder", Location(str(root)),
            "point at the folder that holds agreement.yaml, e.g. `agreement/`"))
    return LoadedAgreement(root, data, source, files, diagnostics)
