"""Build a :class:`CellSpec` in this NEURON process: mechanisms, sections, biophysics, nseg.

NEURON cannot unload mechanisms and some templates delete every section, so build one cell
per process; use :func:`reducer.isolated.run_isolated` to get a fresh one.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reducer.cell.biophysics import STANDARD_GROUPS, apply_biophysics
from reducer.cell.hoc import instantiate_template, load_hoc_file
from reducer.cell.mechanisms import compile_mechanisms, load_mechanisms
from reducer.cell.nseg import DEFAULT_D_LAMBDA, apply_nseg
from reducer.cell.spec import CellSpec, hoc_library_name
from reducer.cell.stimuli import find_user_stimuli
from reducer.cell.swc import load_swc
from reducer.errors import CellLoadError

# SectionList names (Import3d / BluePyOpt convention) that also select a standard group.
# Plain hoc files already run here (NEURON's load_file would silently skip a second load).
_LOADED_HOC_CELLS: set[str] = set()
_GROUP_LISTS = {"soma": "somatic", "axon": "axonal", "dend": "basal", "apic": "apical"}


@dataclass
class LoadedCell:
    """A cell built in this process.

    Attributes:
        h: ``neuron.h``.
        spec: What it was built from.
        sections: Every section of the cell, in creation order.
        soma: The soma sections (>= 1; a multi-point SWC soma gives several).
        soma_seg: The segment whose ``v`` is "the soma voltage": ``0.5`` of the soma section
            that most non-soma sections attach to (the first soma section on a tie).
        soma_children: ``(child, soma_section, x_attach)`` for every non-soma section attached
            directly to a soma section (the terms of the axial current).
        groups: Section group name → sections (``all``, ``soma``, ``axon``, ``dend``, ``apic``,
            and any other group the biophysics names).
        handle: The Python/hoc object owning the sections (SWC holder or template instance);
            None for a plain hoc cell. Keep the LoadedCell alive to keep the cell.
        user_stimuli: Stimuli the cell's own hoc placed, and what was done with them
            (:func:`reducer.cell.stimuli.find_user_stimuli`).
    """

    h: Any
    spec: CellSpec
    sections: list
    soma: list
    soma_seg: Any
    soma_children: list[tuple[Any, Any, float]]
    groups: dict[str, list] = field(default_factory=dict)
    handle: Any = None
    user_stimuli: list[dict[str, str]] = field(default_factory=list)

    @property
    def n_segments(self) -> int:
        """Total number of segments (sum of nseg)."""
        return sum(int(sec.nseg) for sec in self.sections)

    @property
    def soma_area_um2(self) -> float:
        """Membrane area of all soma sections, from ``seg.area()``."""
        return sum(seg.area() for sec in self.soma for seg in sec)

    def summary(self) -> dict[str, Any]:
        """Plain-Python description (picklable): counts, areas, names."""
        return {
            "name": self.spec.name,
            "n_sections": len(self.sections),
            "n_segments": self.n_segments,
            "soma_sections": [s.name() for s in self.soma],
            "soma_seg": f"{self.soma_seg.sec.name()}({self.soma_seg.x:g})",
            "soma_area_um2": self.soma_area_um2,
            "soma_children": [(c.name(), s.name(), float(x)) for c, s, x in self.soma_children],
            "groups": {g: len(secs) for g, secs in self.groups.items()},
            "user_stimuli": list(self.user_stimuli),
        }


@contextlib.contextmanager
def _working_dir(path: Path) -> Iterator[None]:
    # hoc code opens files (morphologies, other hoc files) relative to the current directory.
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def instantiate_cell(spec: CellSpec) -> LoadedCell:
    """Compile/load mechanisms, build the cell, apply biophysics and nseg, set the temperature.

    Raises:
        CellLoadError: hoc error, missing template, malformed SWC, no identifiable soma.
        MechanismError: a .mod file does not compile or a used mechanism does not exist.
    """
    from neuron import h

    if spec.mod_files:
        load_mechanisms(compile_mechanisms(spec.mod_files), spec.mod_files)
    h.load_file("stdrun.hoc")
    if spec.kind != "swc" and _uses_import3d(spec):
        # A template that reads its morphology with Import3d needs import3d.hoc, which its
        # own model's init file loads: the user should not have to know.
        load_hoc_file(h, Path("import3d.hoc"), spec.mechanisms_dir)
    before = {sec for sec in h.allsec()}
    handle = None
    with _working_dir(spec.root):
        if spec.kind == "swc":
            handle = load_swc(h, spec.morphology, spec.name)
        elif spec.kind == "hoc":
            if str(spec.hoc_file) in _LOADED_HOC_CELLS:
                raise CellLoadError(
                    f"{spec.hoc_file} was already built in this process; a plain hoc cell's "
                    "top-level sections exist once per process: build it again in a fresh one "
                    "(reducer.isolated.run_isolated)"
                )
            _LOADED_HOC_CELLS.add(str(spec.hoc_file))
            load_hoc_file(h, spec.hoc_file, spec.mechanisms_dir)
        else:
            for path in spec.load_files:
                library = hoc_library_name(path)
                load_hoc_file(h, Path(library) if library else path, spec.mechanisms_dir)
            handle = instantiate_template(
                h, spec.template, spec.template_args, spec.load_files, spec.mechanisms_dir
            )
    sections = [sec for sec in h.allsec() if sec not in before]
    if not sections:
        raise CellLoadError(f"{_source(spec)} created no sections")

    # Reported by the pipeline (log and report) from LoadedCell.user_stimuli.
    stimuli = find_user_stimuli(h, sections, keep=spec.keep_stimuli)
    soma = find_soma(h, sections, spec, handle)
    _warn_disconnected(sections, soma, spec)
    groups = section_groups(h, sections, soma, handle, spec)
    bio = spec.biophysics_data
    if bio is not None:
        apply_biophysics(h, groups, bio, str(spec.biophysics))
    rule = bio["nseg"] if bio is not None and bio["nseg"] is not None else (
        DEFAULT_D_LAMBDA if spec.kind == "swc" else None)
    if rule is not None and rule["rule"] != "keep":
        apply_nseg(sections, rule)
        if bio is not None:
            # Values set before nseg changed are carried over by NEURON; re-applying keeps
            # every new segment exactly as the file says, whatever NEURON interpolated.
            apply_biophysics(h, groups, bio, str(spec.biophysics))

    h.celsius = spec.celsius
    h.dt = spec.dt_ms
    h.steps_per_ms = 1.0 / spec.dt_ms
    h.v_init = spec.v_init_mV

    soma_set = set(soma)
    children = []
    for sec in sections:
        parent = sec.parentseg()
        if sec not in soma_set and parent is not None and parent.sec in soma_set:
            children.append((sec, parent.sec, float(parent.x)))
    counts = {s: sum(1 for _, p, _ in children if p == s) for s in soma}
    main_soma = max(soma, key=lambda s: counts[s])  # max keeps the first on ties
    return LoadedCell(
        h=h, spec=spec, sections=sections, soma=soma, soma_seg=main_soma(0.5),
        soma_children=children, groups=groups, handle=handle, user_stimuli=stimuli,
    )


def _uses_import3d(spec: CellSpec) -> bool:
    for path in [spec.hoc_file, *spec.load_files]:
        if path is None or hoc_library_name(path):
            continue
        try:
            if "Import3d" in path.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def _warn_disconnected(sections: list, soma: list, spec: CellSpec) -> None:
    """Warn about sections outside the soma's tree: simulated, yet invisible at the soma."""
    tree = set(soma[0].wholetree())
    loose = [s.name() for s in sections if s not in tree]
    if loose:
        shown = ", ".join(loose[:5]) + (" ..." if len(loose) > 5 else "")
        warnings.warn(
            f"{_source(spec)}: {len(loose)} section(s) are not connected to the soma ({shown}); "
            "they cost simulation time but cannot affect the soma (hoc placeholders such as "
            "'create axon[1]' left unused?)",
            stacklevel=3,
        )


def _source(spec: CellSpec) -> str:
    if spec.kind == "swc":
        return str(spec.morphology)
    if spec.kind == "hoc":
        return str(spec.hoc_file)
    return f"template {spec.template} ({', '.join(str(f) for f in spec.load_files)})"


def base_name(sec: Any) -> str:
    """``Cell[0].dend[3]`` → ``dend``; ``soma`` → ``soma``."""
    return re.sub(r"\[\d+\]$", "", sec.name().rsplit(".", 1)[-1])


def _section_list(h: Any, holder: Any, name: str) -> list | None:
    """Sections of a SectionList called ``name`` on the cell object or at hoc top level."""
    for owner in ([holder] if holder is not None else []) + [h]:
        if owner is h and int(h.name_declared(name)) != 2:
            continue  # not an objref at top level (avoid creating names)
        try:
            obj = getattr(owner, name)
        except (AttributeError, LookupError, RuntimeError):
            continue
        if hasattr(obj, "hname") and obj.hname().startswith("SectionList"):
            return list(obj)
    return None


def find_soma(h: Any, sections: list, spec: CellSpec, handle: Any) -> list:
    """The soma sections: named by ``spec.soma``, else sections named soma*, else ``somatic``.

    ``spec.soma`` may be a SectionList name (on the template object or at hoc top level), a
    section base name (``soma`` selects ``soma[0]``, ``soma[1]`` ...) or one section's name
    (``soma[1]`` or ``Cell[0].soma[1]``).
    """
    names = sorted({base_name(s) for s in sections})
    if spec.soma:
        listed = _section_list(h, handle, spec.soma)
        found = [s for s in sections if spec.soma in (
            base_name(s), s.name(), s.name().rsplit(".", 1)[-1])]
        if listed is not None:
            found = [s for s in sections if s in set(listed)]
        if not found:
            raise CellLoadError(
                f"'soma': {spec.soma!r} names no section or SectionList of {_source(spec)}; its "
                f"sections are named {names}"
            )
        return found
    found = [s for s in sections if base_name(s).lower().startswith("soma")]
    if not found:
        listed = _section_list(h, handle, "somatic")
        found = [s for s in sections if listed is not None and s in set(listed)]
    if not found:
        raise CellLoadError(
            f"no identifiable soma in {_source(spec)}: looked for sections whose name starts with "
            f"'soma' and for a SectionList 'somatic', found neither (section names: {names}). "
            "Name the soma in cell.json, e.g. \"soma\": \"<section or SectionList name>\" "
            "(or soma=... in load_cell_spec)"
        )
    return found


def section_groups(
    h: Any, sections: list, soma: list, handle: Any, spec: CellSpec
) -> dict[str, list]:
    """Sections selected by each group name the biophysics may use."""
    soma_set = set(soma)
    groups: dict[str, list] = {"all": list(sections), "soma": list(soma)}
    for group in ("axon", "dend", "apic"):
        listed = _section_list(h, handle, _GROUP_LISTS[group]) or []
        chosen = set(listed) | {s for s in sections if base_name(s).lower().startswith(group)}
        groups[group] = [s for s in sections if s in chosen and s not in soma_set]
    bio = spec.biophysics_data
    for group in (bio["sections"] if bio else {}):
        if group in STANDARD_GROUPS:
            continue
        listed = _section_list(h, handle, group)
        chosen = set(listed or []) | {s for s in sections if base_name(s) == group}
        if not chosen:
            raise CellLoadError(
                f"{spec.biophysics}: section group {group!r} matches no section or SectionList "
                f"of the cell (section names: {sorted({base_name(s) for s in sections})}; "
                f"standard groups: {list(STANDARD_GROUPS)})"
            )
        groups[group] = [s for s in sections if s in chosen]
    return groups
