"""Parse one .mod file with ``neuron.nmodl`` and collect what the translator needs.

:func:`read_mod` returns a :class:`ModInfo`: the mechanism's name and kind, USEION
statements, currents, RANGE/GLOBAL names, PARAMETER defaults, STATE and ASSIGNED names,
CONSTANTs and UNITS factors, and the executable blocks as :class:`~.ast_tree.Node` trees.
It also rejects constructs that cannot be translated (see :mod:`.unsupported`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from reducer.nmodl2jax.ast_tree import Node, to_tree
from reducer.nmodl2jax.source import ModSource
from reducer.nmodl2jax.units import UnitTable

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin_mods"
BUILTIN_MECHANISMS = ("hh", "pas")

# Variables NEURON provides to every mechanism rather than the mechanism owning them.
NEURON_VARS = {"v", "celsius", "dt", "t", "diam", "area"}


@dataclass
class IonUse:
    """One ``USEION`` statement."""

    ion: str
    read: list[str]
    write: list[str]
    valence: float | None


@dataclass
class Callable:
    """A FUNCTION or PROCEDURE: argument names and body."""

    name: str
    args: list[str]
    body: Node
    is_function: bool


@dataclass
class ModInfo:
    """Everything the translator reads from one .mod file."""

    source: ModSource
    suffix: str
    kind: str
    useions: list[IonUse] = field(default_factory=list)
    nonspecific: list[str] = field(default_factory=list)
    electrode: list[str] = field(default_factory=list)
    range_vars: list[str] = field(default_factory=list)
    global_vars: list[str] = field(default_factory=list)
    parameters: dict[str, float | None] = field(default_factory=dict)
    states: list[str] = field(default_factory=list)
    assigned: list[str] = field(default_factory=list)
    constants: dict[str, float] = field(default_factory=dict)
    initial: Node | None = None
    breakpoint: Node | None = None
    derivatives: dict[str, Node] = field(default_factory=dict)
    kinetics: dict[str, Node] = field(default_factory=dict)
    callables: dict[str, Callable] = field(default_factory=dict)
    tree: Node | None = None

    @property
    def path(self) -> str:
        return self.source.path

    def ion_vars(self) -> dict[str, str]:
        """Map of every ion variable this mechanism uses (read or write) to its ion."""
        out: dict[str, str] = {}
        for u in self.useions:
            for name in u.read + u.write:
                out[name] = u.ion
        return out

    def currents(self) -> list[str]:
        """Names of the currents this mechanism contributes (ion currents it writes and
        nonspecific/electrode currents), in NEURON's order."""
        cur: list[str] = []
        for u in self.useions:
            cur += [w for w in u.write if w == "i" + u.ion]
        return cur + self.nonspecific + self.electrode

    def range_parameters(self) -> list[str]:
        """PARAMETERs that are RANGE variables (per-segment values in NEURON)."""
        ions = self.ion_vars()
        return [p for p in self.parameters
                if p in self.range_vars and p not in ions and p not in NEURON_VARS]

    def global_parameters(self) -> list[str]:
        """PARAMETERs that are GLOBAL (the default for a PARAMETER not declared RANGE)."""
        ions = self.ion_vars()
        return [p for p in self.parameters
                if p not in self.range_vars and p not in ions and p not in NEURON_VARS]


def builtin_mod_path(name: str) -> Path:
    """The bundled NMODL text of a NEURON built-in mechanism (``hh`` or ``pas``)."""
    return BUILTIN_DIR / f"{name}.mod"


def read_mod(path: Path | str) -> ModInfo:
    """Parse ``path`` and return its :class:`ModInfo`; raise NmodlTranslationError if the
    file cannot be parsed or uses a construct the translator does not handle."""
    from reducer.nmodl2jax.unsupported import check_supported

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ModSource(path, "").error(None, "file", f"cannot be read ({exc})") from exc
    src = ModSource(path.resolve(), text)
    from neuron.nmodl import NmodlDriver

    include = src.find_line(r"^\s*INCLUDE\b")
    if include:  # the parser would try to open the file relative to the cwd
        raise src.error(include, "INCLUDE", "is not supported; paste the included text into "
                        "the file")
    try:
        program = NmodlDriver().parse_string(text)
    except RuntimeError as exc:
        msg = str(exc).strip().splitlines()[0]
        line = None
        if "Location :" in msg:
            try:
                line = int(msg.split("Location :")[1].strip().split(".")[0])
            except ValueError:
                line = None
        raise src.error(line, "syntax", f"NMODL parser error ({msg}); fix the file") from exc
    tree = to_tree(program)
    check_supported(tree, src)
    info = _collect(tree, src)
    return info


def _declared_as_array(src: ModSource, name: str) -> bool:
    """Whether the STATE block declares ``name[...]``."""
    block = re.search(r"\bSTATE\s*\{([^}]*)\}", "\n".join(src.lines))
    return bool(block and re.search(rf"(?<![\w]){re.escape(name)}\s*\[", block.group(1)))


def _number(node: Node) -> float:
    if node.kind in ("Integer", "Double", "Float"):
        return float(node.value)
    if node.kind == "UnaryExpression" and node.children[0].value == "-":
        return -_number(node.children[1])
    if node.kind in ("WrappedExpression", "ParenExpression"):
        return _number(node.children[0])
    raise ValueError(node.kind)


def _unit_text(node: Node) -> str:
    return node.children[0].value if node.children else ""


def _collect(tree: Node, src: ModSource) -> ModInfo:
    info = ModInfo(source=src, suffix="", kind="")
    unit_defs: dict[str, str] = {}
    factor_defs: list[Node] = []
    for block in tree.children:
        k = block.kind
        if k == "NeuronBlock":
            _neuron_block(block, info, src)
        elif k == "UnitBlock":
            for d in block.children:
                if d.kind == "UnitDef":
                    units = d.find_all("Unit")
                    unit_defs[_unit_text(units[0])] = _unit_text(units[1])
                elif d.kind == "FactorDef":
                    factor_defs.append(d)
        elif k == "ConstantBlock":
            for st in block.children:
                var = st.find("ConstantVar") if st.kind == "ConstantStatement" else None
                if var is not None:
                    nums = [c for c in var.children if c.kind in ("Integer", "Double", "Float")]
                    info.constants[var.name] = float(nums[0].value) if nums else 0.0
        elif k == "ParamBlock":
            for pa in block.find_all("ParamAssign"):
                if pa.find("IndexedName") is not None:
                    name = pa.find("IndexedName").name
                    raise src.error(src.word_line(name), f"PARAMETER array {name}",
                                    "array variables are not supported; use scalars")
                nums = [c for c in pa.children[1:] if c.kind in ("Integer", "Double", "Float")]
                info.parameters[pa.name] = float(nums[0].value) if nums else None
        elif k == "StateBlock":
            for d in block.children:
                if d.kind == "AssignedDefinition":
                    # The dump gives an array length, FROM/TO bounds and a <tolerance> all
                    # as bare numbers after the name: the source says which. Bounds and
                    # tolerances are no array (fixed-step NEURON ignores both).
                    if d.find("IndexedName") is not None or _declared_as_array(src, d.name):
                        raise src.error(src.block_line("STATE"), f"STATE array {d.name}",
                                        "array states are not supported; unroll them")
                    info.states.append(d.name)
        elif k == "AssignedBlock":
            for d in block.children:
                if d.kind == "AssignedDefinition":
                    if d.find("IndexedName") is not None:
                        name = d.find("IndexedName").name
                        raise src.error(src.word_line(name), f"ASSIGNED array {name}",
                                        "array variables are not supported; use scalars")
                    info.assigned.append(d.name)
        elif k == "InitialBlock":
            info.initial = block.find("StatementBlock")
        elif k == "BreakpointBlock":
            info.breakpoint = block.find("StatementBlock")
        elif k == "DerivativeBlock":
            info.derivatives[block.name] = block.find("StatementBlock")
        elif k == "KineticBlock":
            info.kinetics[block.name] = block.find("StatementBlock")
        elif k == "LocalListStatement":
            # A file-scope LOCAL is one variable shared by the file's blocks (nocmodl makes
            # it a static, per thread); for one soma that is a per-instance ASSIGNED.
            info.assigned.extend(v.name for v in block.find_all("LocalVar"))
        elif k in ("FunctionBlock", "ProcedureBlock"):
            args = [a.name for a in block.find_all("Argument")]
            info.callables[block.name] = Callable(block.name, args,
                                                  block.find("StatementBlock"),
                                                  k == "FunctionBlock")
    units = UnitTable(unit_defs)
    for d in factor_defs:
        name = d.name
        nums = [c for c in d.children if c.kind in ("Integer", "Double", "Float")]
        unit_nodes = d.find_all("Unit")
        try:
            if nums:
                value = float(nums[0].value)
                if d.find("UnaryOperator") is not None:
                    value = -value
                if len(unit_nodes) == 2:
                    value *= units.factor(_unit_text(unit_nodes[0]), _unit_text(unit_nodes[1]))
            else:
                value = units.factor(_unit_text(unit_nodes[0]), _unit_text(unit_nodes[1]))
        except ValueError as exc:
            raise src.error(src.word_line(name), f"UNITS factor {name}",
                            f"cannot evaluate ({exc}); give its value as a number") from exc
        if not math.isfinite(value):
            raise src.error(src.word_line(name), f"UNITS factor {name}", "is not finite")
        info.constants[name] = value
    info.tree = tree
    if not info.suffix:
        raise src.error(src.block_line("NEURON"), "NEURON block",
                        "no SUFFIX (density mechanism) found")
    return info


def _neuron_block(block: Node, info: ModInfo, src: ModSource) -> None:
    body = block.find("StatementBlock")
    for st in body.children if body else []:
        k = st.kind
        if k == "Suffix":
            names = st.find_all("Name")
            info.kind, info.suffix = names[0].value, names[1].value
        elif k == "Useion":
            ion = st.children[0].name
            read = [c.name for c in st.find_all("ReadIonVar")]
            write = [c.name for c in st.find_all("WriteIonVar")]
            valence = None
            val = st.find("Valence")
            if val is not None:
                valence = _number([c for c in val.children if c.kind != "Name"][0])
            info.useions.append(IonUse(ion, read, write, valence))
        elif k == "Nonspecific":
            info.nonspecific += [c.name for c in st.children]
        elif k == "ElectrodeCurrent":
            info.electrode += [c.name for c in st.children]
        elif k == "Range":
            info.range_vars += [c.name for c in st.children]
        elif k == "Global":
            info.global_vars += [c.name for c in st.children]
