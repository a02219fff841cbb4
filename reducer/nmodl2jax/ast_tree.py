"""A light, plain-Python tree of a parsed .mod file (from ``neuron.nmodl``'s JSON dump).

Each :class:`Node` has the nmodl AST class name as ``kind`` and its children; names and
literals are collapsed into leaves with a ``value``. SOLVE statements keep their METHOD /
STEADYSTATE distinction, which the JSON dump loses, by reading it from the nmodl AST.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

_LEAF_KINDS = {"String", "Integer", "Double", "Float", "Boolean"}


@dataclass
class Node:
    """One AST node: ``kind`` (nmodl class name), ``children``, and ``value`` for leaves."""

    kind: str
    children: list[Node] = field(default_factory=list)
    value: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def find(self, kind: str) -> Node | None:
        """First direct child of ``kind``."""
        for c in self.children:
            if c.kind == kind:
                return c
        return None

    def find_all(self, kind: str) -> list[Node]:
        """All direct children of ``kind``."""
        return [c for c in self.children if c.kind == kind]

    def walk(self):
        """This node and all descendants, depth first, in source order."""
        yield self
        for c in self.children:
            yield from c.walk()

    @property
    def name(self) -> str:
        """The identifier of a Name leaf, or of the first Name child."""
        if self.kind == "Name" and self.value is not None:
            return self.value
        for c in self.children:
            if c.kind == "Name":
                return c.name
        raise ValueError(f"{self.kind} has no name")


def _convert(obj: dict) -> Node:
    kind = obj["name"]
    children = obj.get("children")
    if children is None:
        return Node("#", value=kind)
    if kind == "Name" and len(children) == 1 and children[0]["name"] == "String":
        return Node("Name", value=children[0]["children"][0]["name"])
    if kind in _LEAF_KINDS and len(children) == 1 and "children" not in children[0]:
        return Node(kind, value=children[0]["name"])
    if kind in ("BinaryOperator", "UnaryOperator", "ReactionOperator") and len(children) == 1:
        return Node(kind, value=children[0]["name"])
    return Node(kind, [_convert(c) for c in children])


def to_tree(program) -> Node:
    """Convert an nmodl ``ast.Program`` into a :class:`Node` tree."""
    from neuron.nmodl import ast, to_json, visitor

    tree = _convert(json.loads(to_json(program, compact=False, expand=True)))
    solves = visitor.AstLookupVisitor().lookup(program, ast.AstNodeType.SOLVE_BLOCK)
    tree_solves = [n for n in tree.walk() if n.kind == "SolveBlock"]
    for node, sb in zip(tree_solves, solves, strict=True):
        node.extra["block"] = sb.block_name.get_node_name()
        node.extra["method"] = sb.method.get_node_name() if sb.method else None
        node.extra["steadystate"] = sb.steadystate.get_node_name() if sb.steadystate else None
    tables = visitor.AstLookupVisitor().lookup(program, ast.AstNodeType.TABLE_STATEMENT)
    tree_tables = [n for n in tree.walk() if n.kind == "TableStatement"]
    for node, ts in zip(tree_tables, tables, strict=True):
        node.extra["table_vars"] = [v.get_node_name() for v in ts.table_vars]
        node.extra["has_range"] = getattr(ts, "from") is not None
    return tree
