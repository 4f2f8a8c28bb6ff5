"""Names that must resolve: fields, definitions and scores in conditions; no definition cycles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from ..describe import definition_label, score_label
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


MAX_CHAIN: Final = 100  # definitions and scores one can depend on through others, in a row


def check_cycles(ctx: CheckContext) -> Iterator[Diagnostic]:
    """A definition that depends on itself, directly or through scores, can never be decided;
    one at the end of a chain over `MAX_CHAIN` long could not be explained or printed as SQL.

    Walked with a stack of its own, not by recursion: a long chain must be reported, not
    crash the validator.
    """
    spec = ctx.spec
    graph = _dependencies(ctx)
    state: dict[Node, int] = {}  # 1 = on the current path, 2 = done
    longest: dict[Node, int] = {}  # of a node done: the longest chain it starts
    reported: set[frozenset[Node]] = set()
    found: list[Diagnostic] = []

    def named(node: Node) -> str:
        kind, name = node
        label = definition_label(spec, name) if kind == "definition" else score_label(spec, name)
        return f"{kind} “{label}”"

    for root in graph:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[Node, Iterator[tuple[Node, PathKey]]]] = [
            (root, iter(graph.get(root, [])))]
        while stack:
            node, edges = stack[-1]
            for target, path in edges:
                if state.get(target) == 1:
                    start = next(i for i, (n, _) in enumerate(stack) if n == target)
                    members = [n for n, _ in stack[start:]]
                    if frozenset(members) not in reported:
                        reported.add(frozenset(members))
                        chain = " → ".join(named(n) for n in [*members, target])
                        found.append(error("definition-cycle", f"reference cycle: {chain}",
                                           ctx.at(path),
                                           "a definition cannot depend on itself; break the "
                                           "cycle"))
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(graph.get(target, []))))
                    break
            else:
                stack.pop()
                state[node] = 2
                longest[node] = 1 + max((longest.get(t, 0) for t, _ in graph.get(node, [])),
                                        default=0)
    too_long = [node for node, size in longest.items() if size > MAX_CHAIN]
    if too_long:
        node = max(too_long, key=lambda n: longest[n])
        kind, name = node
        found.append(error(
            "definition-chain-too-long",
            f"{named(node)} depends on a chain of {longest[node]:,} definitions and scores, "
            f"each through the next; at most {MAX_CHAIN} can be chained",
            ctx.at((f"{kind}s", name)),
            "refer to the conditions a definition needs directly instead of through a long "
            "chain of other definitions"))
    yield from found
