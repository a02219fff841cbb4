"""NMODL constructs the translator rejects, each with one message naming file, line, construct.

Checked right after parsing, so a user learns about them before any training starts.
"""

from __future__ import annotations

import re

from reducer.nmodl2jax.ast_tree import Node
from reducer.nmodl2jax.source import ModSource

# AST node kind -> (keyword to locate, what to tell the user)
_REJECT: dict[str, tuple[str, str]] = {
    "Verbatim": ("VERBATIM", "not translatable: this block is C code (VERBATIM ... "
                 "ENDVERBATIM); rewrite what it computes in NMODL statements"),
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


# Old NMODL PROCEDUREs returned an int; many published files end one with
# `VERBATIM return 0; ENDVERBATIM` (Mainen 1995, Larkum 2009 ...), which only ends the
# procedure where it ends anyway. That exact form is no C to translate.
_TRAILING_RETURN = re.compile(r"^\s*return\s+0\s*;\s*$")
# ... and old files carry their RCS id as a C string at file scope: no code either.
_RCS_ID = re.compile(r'^\s*static\s+(?:const\s+)?char\s*\*?\s*\w+\s*(?:\[\s*\])?\s*=\s*'
                     r'"[^"]*"\s*;\s*$')


_C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def empty_verbatim(node: Node) -> bool:
    """Whether ``node`` is a Verbatim block holding only C comments or white space (Hu et
    al. 2009's channels keep a commented-out ``//return 0;``): nothing runs."""
    text = "".join(c.value for c in node.walk() if c.kind == "String")
    return node.kind == "Verbatim" and not _C_COMMENT.sub("", text).strip()


def trailing_return_verbatim(node: Node) -> bool:
    """Whether ``node`` is a Verbatim block that holds only ``return 0;``."""
    text = "".join(c.value for c in node.walk() if c.kind == "String")
    return node.kind == "Verbatim" and bool(_TRAILING_RETURN.match(text))


def _rcs_id_verbatim(node: Node) -> bool:
    text = "".join(c.value for c in node.walk() if c.kind == "String")
    return node.kind == "Verbatim" and bool(_RCS_ID.match(text))


def _verbatim_lines(src: ModSource) -> list[tuple[int, bool]]:
    """Each VERBATIM block's line and whether it is ``return 0;`` right before the end of
    its block (``}``), in file order."""
    raw = src.text.split("\n")
    out = []
    for i, line in enumerate(src.lines):
        if line.strip().startswith("VERBATIM"):
            end = next((j for j in range(i + 1, len(raw)) if "ENDVERBATIM" in raw[j]), None)
            body = " ".join(raw[i + 1:end]) if end is not None else ""
            after = next((ln.strip() for ln in src.lines[(end or i) + 1:] if ln.strip()), "")
            out.append((i + 1, bool(_TRAILING_RETURN.match(body)) and after.startswith("}")))
    return out


def check_supported(tree: Node, src: ModSource) -> None:
    """Raise NmodlTranslationError for the first construct the translator cannot handle."""
    verbatims = iter(_verbatim_lines(src))
    top_level = {id(c) for c in tree.children}
    for node in tree.walk():
        if node.kind == "Verbatim":
            line, trailing = next(verbatims, (src.word_line("VERBATIM"), False))
            if (trailing and trailing_return_verbatim(node)) or empty_verbatim(node):
                continue
            if id(node) in top_level and _rcs_id_verbatim(node):
                continue  # an RCS id string at file scope
            raise src.error(line, "VERBATIM", _REJECT["Verbatim"][1])
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
