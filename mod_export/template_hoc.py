"""Render the hoc template of the reduced cell: one soma section plus the learned current.

The soma keeps the original soma's membrane area (one cylinder with L = diam, nseg = 1), its
cm and Ra, its own mechanisms with their range values and its ion settings; the learned axial
current is a POINT_PROCESS ``axial`` at soma(0.5). Simulation settings (celsius, v_init, dt)
are process-wide, so the template only records them in a comment; export.json carries them.
"""

from __future__ import annotations

from mod_export.mod_info import ModInfo
from mod_export.naming import comment_safe
from mod_export.soma import IonStyle, SomaMechanism, SomaSpec

# NEURON's initial-concentration defaults (<ion>i0_<ion>_ion, <ion>o0_<ion>_ion).
_ION_DEFAULTS = {"na": (10.0, 140.0), "k": (54.4, 2.5), "ca": (5e-05, 2.0)}


def _lit(x: float) -> str:
    return repr(float(x))


def hoc_range_name(name: str, mech: str) -> str:
    """hoc name of a mechanism variable: ``gbar`` -> ``gbar_na_p08`` (already suffixed: kept)."""
    return name if name.endswith(f"_{mech}") else f"{name}_{mech}"


def _global_lines(mech: SomaMechanism, info: ModInfo | None) -> list[str]:
    """Assignments of the mechanism's globals that differ from the mod defaults (with why)."""
    lines = []
    for name, value in mech.global_values.items():
        hoc = hoc_range_name(name, mech.name)
        bare = name[: -len(mech.name) - 1] if name.endswith(f"_{mech.name}") else name
        if info is None:
            lines.append(f"    {hoc} = {_lit(value)}  // built-in mechanism: set as described")
        elif bare not in info.parameter_defaults:
            lines.append(f"    // {hoc} = {_lit(value)}: not a PARAMETER of {mech.name} "
                         "(computed at run time), not set")
        elif info.parameter_defaults[bare] == value:
            lines.append(f"    // {hoc} = {_lit(value)}: equals the mod default, not set")
        else:
            lines.append(f"    {hoc} = {_lit(value)}  // mod default "
                         f"{_lit(info.parameter_defaults[bare])}")
    if mech.usetable is not None and mech.usetable != 1.0:
        lines.append(f"    usetable_{mech.name} = {_lit(mech.usetable)}  // default 1")
    return lines


def _ion_global_lines(ion: str, style: IonStyle) -> list[str]:
    """Initial-concentration globals: they matter only where the style initialises them."""
    if not style.arguments[4]:  # cinit = 0: concentrations are not set from the globals
        return []
    defaults = _ION_DEFAULTS.get(ion)
    lines = []
    for i, (name, value) in enumerate(((f"{ion}i0_{ion}_ion", style.ci0),
                                       (f"{ion}o0_{ion}_ion", style.co0))):
        if value is None:
            continue
        if defaults is None:
            lines.append(f"    {name} = {_lit(value)}  // NEURON default unknown here: set")
        elif value != defaults[i]:
            lines.append(f"    {name} = {_lit(value)}  // NEURON default {_lit(defaults[i])}")
    return lines


def render_template(spec: SomaSpec, template: str, mechanism: str, cell_name: str,
                    mod_infos: dict[str, ModInfo], *, v_init_mV: float, dt_ms: float) -> str:
    """Return the text of ``<template>.hoc``.

    Args:
        spec: the checked soma description.
        template: hoc template name.
        mechanism: POINT_PROCESS name of the learned axial current.
        cell_name: name of the original cell (comments only).
        mod_infos: :class:`ModInfo` of every soma mechanism that has a mod file, by name.
        v_init_mV: resting / initial voltage of the original simulations (comment only).
        dt_ms: time step the model was trained with (comment only).
    """
    from reducer import __version__

    d = spec.diam_um
    celsius = "unknown" if spec.celsius_degC is None else f"{spec.celsius_degC} degC"
    origin = comment_safe(", ".join(spec.sections) or "soma", 200)
    cell_name = comment_safe(cell_name)
    out = [
        f"// Reduced single-compartment model of the cell '{cell_name}' "
        f"(reduce-cell {__version__}, mod_export).",
        f"// Soma: the original soma ({origin}) as one cylinder of the same membrane area",
        f"// ({_lit(spec.area_um2)} um2, L = diam, nseg = 1) with its own mechanisms and ion",
        f"// settings, plus the learned axial current '{mechanism}' (POINT_PROCESS 'axial',",
        "// nA, positive = into the soma) standing in for the dendrites and axon.",
        "// Load the compiled mechanisms (export.json: mechanisms_dir) before this file.",
        "// Process-wide settings of the original simulations, NOT set here (set them in the",
        f"// script): celsius = {celsius}, v_init = {_lit(v_init_mV)} mV, dt = {_lit(dt_ms)} ms.",
        "",
        f"begintemplate {template}",
        "public soma, axial, all",
        "create soma",
        "objref axial, all",
        "",
        "proc init() {",
        "    all = new SectionList()",
        "    soma all.append()",
        "    soma {",
        "        nseg = 1",
        f"        L = {_lit(d)}",
        f"        diam = {_lit(d)}",
        f"        cm = {_lit(spec.cm_uF_per_cm2)}",
        f"        Ra = {_lit(spec.Ra_ohm_cm)}",
    ]
    for mech in spec.mechanisms:
        out.append(f"        insert {mech.name}")
        out += [f"        {hoc_range_name(n, mech.name)} = {_lit(v)}"
                for n, v in mech.range_values.items()]
    ions = list(spec.ions) + [ion for ion in spec.ion_styles if ion not in spec.ions]
    if ions:
        # After all inserts: inserting a mechanism that uses an ion resets its values.
        out.append("        // ion style, reversal potentials and concentrations as in the "
                   "original soma")
    for ion in ions:
        out.append(f"        insert {ion}_ion")
        if ion in spec.ion_styles:
            args = ", ".join(str(a) for a in spec.ion_styles[ion].arguments)
            out.append(f'        ion_style("{ion}_ion", {args})')
        out += [f"        {n} = {_lit(v)}" for n, v in spec.ions.get(ion, {}).items()]
    out += [f"        axial = new {mechanism}(0.5)", "    }"]
    global_lines = [line for mech in spec.mechanisms
                    for line in _global_lines(mech, mod_infos.get(mech.name))]
    global_lines += [line for ion, style in spec.ion_styles.items()
                     for line in _ion_global_lines(ion, style)]
    if global_lines:
        out.append("    // GLOBALs are process-wide: an assignment here affects every cell using")
        out.append("    // that mechanism or ion; only values differing from the default are set.")
        out += global_lines
    out += ["}", "", f"endtemplate {template}", ""]
    return "\n".join(out)
