"""Names that must resolve: fields, definitions and scores in conditions; no definition cycles."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, error
from ..loader import PathKey
from ..models.conditions import DefinitionCondition, FieldCondition, ScoreCondition, walk
from .base import CheckContext, condition_nodes


def check_condition_references(ctx: CheckContext) -> Iterator[Diagnostic]:
    spec = ctx.spec
    for node, path in condition_nodes(spec):
        if isinstance(node, FieldCondition):
            yield from ctx.field_ref(node.field, (*path, "field"))
        elif isinstance(node, ScoreCondition) and node.score not in spec.scores:
            yield ctx.unknown("score", node.score, list(spec.scores), (*path, "score"))
        elif isinstance(node, DefinitionCondition) and node.definition not in spec.definitions:
            yield ctx.unknown("definition", node.definition, list(spec.definitions),
                              (*path, "definition"))


Node = tuple[str, str]  # ("definition" | "score", id)


def _dependencies(ctx: CheckContext) -> dict[Node, list[tuple[Node, PathKey]]]:
    """Which definitions and scores each definition and score refers to, and where."""
    spec = ctx.spec
    graph: dict[Node, list[tuple[Node, PathKey]]] = {}

    def refs(condition: object, base: PathKey) -> list[tuple[Node, PathKey]]:
        found: list[tuple[Node, PathKey]] = []
        for node, rel in walk(condition):  # type: ignore[arg-type]
            if isinstance(node, DefinitionCondition) and node.definition in spec.definitions:
                found.append((("definition", node.definition), base + rel))
            elif isinstance(node, ScoreCondition) and node.score in spec.scores:
                found.append((("score", node.score), base + rel))
        return found

    for name, definition in spec.definitions.items():
        graph[("definition", name)] = refs(definition.when, ("definitions", name, "when"))
    for name, score in spec.scores.items():
        edges: list[tuple[Node, PathKey]] = []
        for i, rule in enumerate(score.rules):
            when = getattr(rule, "when", None)
            if when is not None:
                edges.extend(refs(when, ("scores", name, "rules", i, "when")))
        graph[("score", name)] = edges
    return graph


def check_cycles(ctx: CheckContext) -> Iterator[Diagnostic]:
    """A definition that depends on itself, directly or through scores, can never be decided."""
    graph = _dependencies(ctx)
    state: dict[Node, int] = {}  # 1 = on the current path, 2 = done
    stack: list[tuple[Node, PathKey | None]] = []
    reported: set[frozenset[Node]] = set()
    found: list[Diagnostic] = []

    def visit(node: Node, via: PathKey | None) -> None:
        state[node] = 1
        stack.append((node, via))
        for target, path in graph.get(node, []):
            if state.get(target) == 1:
                start = next(i for i, (n, _) in enumerate(stack) if n == target)
                members = [n for n, _ in stack[start:]]
                if frozenset(members) not in reported:
                    reported.add(frozenset(members))
                    chain = " → ".join(f"{kind} `{name}`" for kind, name in [*members, target])
                    found.append(error("definition-cycle", f"reference cycle: {chain}",
                                       ctx.at(path),
                                       "a definition cannot depend on itself; break the cycle"))
            elif target not in state:
                visit(target, path)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, None)
    yield from found
