"""SWC morphologies: strict validation in Python, then NEURON's Import3d.

Import3d's own errors are cryptic and can leave NEURON half-built, so the text is checked
first and every problem is reported as ``file:line: what is wrong``. Accepted: one sample per
line, ``id type x y z radius parent`` (7 columns, ``#`` starts a comment), unique ids, each
parent defined on an earlier line (or -1 for the single root), radius > 0, at least one soma
sample (type 1). Import3d then builds the sections: type 1 → ``soma[i]``, 2 → ``axon[i]``,
3 → ``dend[i]``, 4 → ``apic[i]``, other types → ``dend_<type>[i]``; a multi-point soma becomes
several soma sections; children attach at 0, 0.5 or 1 of their parent section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reducer.errors import CellLoadError

SWC_COLUMNS = "id type x y z radius parent"
_INSTANCES: dict[str, int] = {}


@dataclass(frozen=True)
class SwcSample:
    """One SWC line."""

    id: int
    type: int
    x: float
    y: float
    z: float
    radius: float
    parent: int
    line: int


def _int(token: str, what: str, where: str) -> int:
    try:
        value = float(token)
    except ValueError:
        raise CellLoadError(f"{where}: {what} {token!r} is not a number") from None
    if not value.is_integer():
        raise CellLoadError(f"{where}: {what} {token!r} must be an integer")
    return int(value)


def _float(token: str, what: str, where: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise CellLoadError(f"{where}: {what} {token!r} is not a number") from None
    if not math.isfinite(value):
        raise CellLoadError(f"{where}: {what} {token!r} is not finite")
    return value


def validate_swc(path: str | Path) -> list[SwcSample]:
    """Parse and check an SWC file; returns its samples in file order.

    Raises:
        CellLoadError: naming the file and line of the first problem.
    """
    path = Path(path)
    try:
        text = path.read_text(errors="strict")
    except UnicodeDecodeError as exc:
        raise CellLoadError(f"{path}: not a text file ({exc.reason})") from exc
    samples: list[SwcSample] = []
    line_of: dict[int, int] = {}
    root: SwcSample | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue
        where = f"{path}:{lineno}"
        tokens = content.split()
        if len(tokens) != 7:
            raise CellLoadError(
                f"{where}: expected 7 columns ({SWC_COLUMNS}), found {len(tokens)}: {content!r}"
            )
        sid = _int(tokens[0], "sample id", where)
        stype = _int(tokens[1], "type", where)
        x, y, z = (_float(t, name, where) for t, name in zip(tokens[2:5], "xyz", strict=True))
        radius = _float(tokens[5], "radius", where)
        parent = _int(tokens[6], "parent id", where)
        if sid in line_of:
            raise CellLoadError(
                f"{where}: sample id {sid} is defined twice (first on line {line_of[sid]})"
            )
        if radius <= 0:
            raise CellLoadError(
                f"{where}: sample {sid} has radius {radius}; radii must be > 0 (a zero diameter "
                "makes an infinite axial resistance in NEURON)"
            )
        sample = SwcSample(sid, stype, x, y, z, radius, parent, lineno)
        if parent < 0:
            if root is not None:
                raise CellLoadError(
                    f"{where}: sample {sid} is a second root (parent {parent}); the first root "
                    f"is sample {root.id} on line {root.line}. A cell must be one connected "
                    "tree: give every sample but one a parent"
                )
            root = sample
        elif parent not in line_of:
            raise CellLoadError(
                f"{where}: sample {sid} has parent {parent}, which is not defined on an earlier "
                "line (SWC parents must come before their children)"
            )
        if parent == sid:
            raise CellLoadError(f"{where}: sample {sid} is its own parent")
        line_of[sid] = lineno
        samples.append(sample)
    if not samples:
        raise CellLoadError(f"{path}: no samples (expected lines of '{SWC_COLUMNS}')")
    if not any(s.type == 1 for s in samples):
        types = sorted({s.type for s in samples})
        raise CellLoadError(
            f"{path}: no soma samples (type 1; the file has types {types}); mark the soma's "
            "samples with type 1 (SWC types: 1 soma, 2 axon, 3 basal dendrite, 4 apical "
            "dendrite)"
        )
    return samples


class SwcCell:
    """Python holder Import3d instantiates into: gets ``soma``, ``dend`` ... lists and ``all``."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __str__(self) -> str:
        return self._name


def load_swc(h: Any, path: Path, name: str) -> SwcCell:
    """Validate ``path`` and build its sections with Import3d inside a :class:`SwcCell`."""
    validate_swc(path)
    h.load_file("import3d.hoc")
    reader = h.Import3d_SWC_read()
    reader.quiet = 1
    reader.input(str(path))
    gui = h.Import3d_GUI(reader, False)
    # Several cells from one file in a process get distinct section names (name, name_1 ...).
    count = _INSTANCES.get(name, 0)
    _INSTANCES[name] = count + 1
    cell = SwcCell(name if count == 0 else f"{name}_{count}")
    gui.instantiate(cell)
    if not getattr(cell, "soma", None):
        raise CellLoadError(f"{path}: Import3d made no soma section from the type-1 samples")
    return cell
