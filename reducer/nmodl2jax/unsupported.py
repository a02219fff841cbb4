"""NMODL constructs the translator rejects, each with one message naming file, line, construct.

Checked right after parsing, so a user learns about them before any training starts.
"""

from __future__ import annotations

from reducer.nmodl2jax.ast_tree import Node
from reducer.nmodl2jax.source import ModSource

# AST node kind -> (keyword to locate, what to tell the user)
_REJECT: dict[str, tuple[str, str]] = {
    "Verbatim": ("VERBATIM", "embedded C code cannot be translated to JAX; rewrite it in NMODL"),
    "Pointer": ("POINTER", "POINTER variables link to other models' data, which a single "
                "compartment translation cannot follow; remove it or make it a PARAMETER"),
    "BbcorePointer": ("BBCOREPOINTER", "BBCOREPOINTER (C-level data) cannot be translated"),
    "NetReceiveBlock": ("NET_RECEIVE", "event delivery is not supported in a density "
                        "mechanism translation; synapses belong outside the soma model"),
    "External": ("EXTERNAL", "EXTERNAL variables of other mechanisms cannot be translated"),
    "LinearBlock": ("LINEAR", "LINEAR blocks are not supported; write the equations explicitly"),
    "NonLinearBlock": ("NONLINEAR", "NONLINEAR blocks are not supported"),
    "BeforeBlock": ("BEFORE", "BEFORE blocks are not supported"),
    "AfterBlock": ("AFTER", "AFTER blocks are not supported"),
    "FunctionTableBlock": ("FUNCTION_TABLE", "FUNCTION_TABLE needs data from hoc; write the "
                           "function in NMODL"),
    "DiscreteBlock": ("DISCRETE", "DISCRETE blocks are not supported"),
    "PartialBlock": ("PARTIAL", "PARTIAL blocks are not supported"),
    "LonDiffuse": ("LONGITUDINAL_DIFFUSION", "longitudinal diffusion needs neighbouring "
                   "compartments; not supported in a single compartment"),
    "WatchStatement": ("WATCH", "WATCH belongs to NET_RECEIVE; not supported"),
    "ForNetcon": ("FOR_NETCONS", "FOR_NETCONS is not supported"),
    "LagStatement": ("LAG", "LAG keeps a history buffer; not supported"),
    "Include": ("INCLUDE", "INCLUDE is not supported; paste the included text into the file"),
    "ConstructorBlock": ("CONSTRUCTOR", "CONSTRUCTOR blocks are not supported"),
    "DestructorBlock": ("DESTRUCTOR", "DESTRUCTOR blocks are not supported"),
    "IndexedName": ("[", "array variables are not supported; unroll them into scalars"),
}


def check_supported(tree: Node, src: ModSource) -> None:
    """Raise NmodlTranslationError for the first construct the translator cannot handle."""
    for node in tree.walk():
        if node.kind == "Suffix":
            kind = node.children[0].value
            if kind != "SUFFIX":
                raise src.error(src.word_line(kind), kind,
                                "only density mechanisms (SUFFIX) are translated; point "
                                "processes in the soma are out of scope")
        if node.kind in _REJECT:
            keyword, what = _REJECT[node.kind]
            if keyword == "[":
                line = src.find_line(r"\w\s*\[")
                try:
                    construct = f"array {node.name}"
                except ValueError:
                    construct = "array"
            else:
                line = src.word_line(keyword)
                construct = keyword
            raise src.error(line, construct, what)
