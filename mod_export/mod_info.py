"""What the reduced-cell builder needs to know about a soma mechanism's .mod file.

Read with NEURON's bundled NMODL parser (``neuron.nmodl``): the mechanism name (SUFFIX or
POINT_PROCESS) and the PARAMETER defaults, so the template only sets a process-wide GLOBAL
where the cell's value differs from the mod default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reducer.errors import ExportError


@dataclass(frozen=True)
class ModInfo:
    """Name and PARAMETER defaults of one .mod file.

    Attributes:
        name: the SUFFIX (or POINT_PROCESS / ARTIFICIAL_CELL name) the file defines.
        parameter_defaults: PARAMETER name -> default value (0.0 where none is given).
        range_names: names declared RANGE in the NEURON block.
    """

    name: str
    parameter_defaults: dict[str, float] = field(default_factory=dict)
    range_names: frozenset[str] = frozenset()


def read_mod_info(mod_file: str | Path) -> ModInfo:
    """Parse ``mod_file`` and return its :class:`ModInfo`.

    Raises:
        ExportError: the file is missing or does not parse.
    """
    from neuron import nmodl
    from neuron.nmodl._nmodl import ast, visitor

    path = Path(mod_file)
    if not path.is_file():
        raise ExportError(
            f"soma mechanism file {path} does not exist; pass the folder that holds the cell's "
            ".mod files, or fix 'mod_file' in the soma description"
        )
    try:
        tree = nmodl.NmodlDriver().parse_string(path.read_text(errors="replace"))
    except RuntimeError as exc:
        raise ExportError(f"soma mechanism file {path} does not parse as NMODL: {exc}") from exc
    lookup = visitor.AstLookupVisitor()
    suffixes = lookup.lookup(tree, ast.AstNodeType.SUFFIX)
    if not suffixes:
        raise ExportError(f"{path} declares no SUFFIX or POINT_PROCESS in its NEURON block")
    defaults: dict[str, float] = {}
    for node in lookup.lookup(tree, ast.AstNodeType.PARAM_ASSIGN):
        value = node.value
        try:
            defaults[node.name.get_node_name()] = (
                float(nmodl.to_nmodl(value)) if value is not None else 0.0)
        except ValueError:  # a symbolic default; treat as unknown (always set)
            continue
    ranges = frozenset(n.name.get_node_name()
                       for n in lookup.lookup(tree, ast.AstNodeType.RANGE_VAR))
    return ModInfo(suffixes[0].name.get_node_name(), defaults, ranges)
