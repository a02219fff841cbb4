"""Render a trained :class:`~reducer.hybrid.axial.GatedAxialCurrent` as an NMODL POINT_PROCESS.

The generated mechanism computes exactly the model's function (see the model's docstring):
one ``tanh`` hidden layer shared by all states, ``z_inf = logistic(a)``,
``tau = tau_min + exp(clip(s, -S_CLIP, S_CLIP))``, states advanced by ``cnexp`` and the
readout ``i`` (nA, positive = into the soma) as an ``ELECTRODE_CURRENT``.

Constraints the text obeys (NEURON / nocmodl / CoreNEURON): weights as float64 literals
(``repr``) so the file is self-contained; THREADSAFE; no VERBATIM, POINTER or GLOBAL written at
run time (``z_inf``/``tau`` are per-instance ASSIGNED); scalar states ``zst<k>x`` (STATE arrays do
not translate in DERIVATIVE blocks); every ``exp`` argument bounded; one declaration or one term
per line (nocmodl rejects long lines); no reserved words as names.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mod_export.fileio import atomic_write_text
from mod_export.naming import comment_safe, content_hash, mechanism_name
from reducer.errors import ExportError
from reducer.hybrid.axial import S_CLIP, GatedAxialCurrent
from reducer.hybrid.model_io import model_arrays

_PLACEHOLDER = "@MECHANISM@"


@dataclass(frozen=True)
class TableSpec:
    """``TABLE ... FROM vmin_mV TO vmax_mV WITH n_intervals`` for z_inf and tau (linear lookup)."""

    vmin_mV: float = -150.0
    vmax_mV: float = 100.0
    n_intervals: int = 2500


def state_name(k: int) -> str:
    """NMODL name of state ``k`` (0-based): ``zst1x``, ``zst2x`` ..."""
    return f"zst{k + 1}x"


def _lit(x: float) -> str:
    """Full-precision float64 literal."""
    return repr(float(x))


def _plus(coef: float, factor: str) -> str:
    """`` + c * factor`` or `` - |c| * factor`` (nocmodl dislikes ``+ -c``)."""
    sign = "-" if math.copysign(1.0, coef) < 0 else "+"
    return f" {sign} {_lit(abs(coef))} * {factor}"


def _affine(coef: float, var: str, const: float) -> str:
    """``c * var + d`` with signs folded, in the same evaluation order as JAX (``c*var + d``)."""
    sign = "-" if math.copysign(1.0, const) < 0 else "+"
    return f"{_lit(coef)} * {var} {sign} {_lit(abs(const))}"


def _normalised_u(model: GatedAxialCurrent, v: str) -> str:
    off = float(model.v_offset_mV)
    shift = f"{v} + {_lit(-off)}" if off < 0 else f"{v} - {_lit(off)}"
    return f"({shift}) / {_lit(model.v_scale_mV)}"


def check_model(model: GatedAxialCurrent) -> dict[str, np.ndarray]:
    """The model's arrays, after checking they are finite and consistently shaped."""
    if not isinstance(model, GatedAxialCurrent):
        raise ExportError(
            f"mod_export can only export a GatedAxialCurrent, got {type(model).__name__}; "
            "load the trained model with reducer.hybrid.load_model(folder)"
        )
    arrays = model_arrays(model)
    for name, arr in arrays.items():
        if not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
            raise ExportError(
                f"the trained model's parameter '{name}' has {bad} NaN/inf value(s); training "
                "diverged, retrain (lower learning rate) or export an earlier checkpoint"
            )
    statics = {k: getattr(model, k) for k in ("v_offset_mV", "v_scale_mV", "tau_min_ms")}
    for name, value in statics.items():
        if not math.isfinite(value):
            raise ExportError(f"the trained model's '{name}' is {value}; it must be finite")
    if model.v_scale_mV == 0.0:
        raise ExportError("the trained model's v_scale_mV is 0; it must be non-zero")
    if model.tau_min_ms < 0.0:
        raise ExportError(
            f"the trained model's tau_min_ms is {model.tau_min_ms} ms; it must be >= 0"
        )
    k, h = model.n_states, model.n_hidden
    expected = {
        "w_in": (h,), "b_in": (h,), "a_lin": (k,), "a0": (k,), "A": (k, h), "s_lin": (k,),
        "s0": (k,), "S": (k, h), "w": (k,), "q": (k,), "w_u": (), "bias_nA": (),
    }
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise ExportError(
                f"the trained model's '{name}' has shape {arrays[name].shape}, expected {shape} "
                f"for {k} states and {h} hidden units; the saved model is inconsistent"
            )
    if k < 1:
        raise ExportError("the trained model has no states (n_states = 0); nothing to export")
    return arrays


def _gates_procedure(model: GatedAxialCurrent, p: dict[str, np.ndarray],
                     table: TableSpec | None) -> list[str]:
    k_states, n_hidden = model.n_states, model.n_hidden
    lines = ["PROCEDURE axgates(vm (mV)) {"]
    # One LOCAL statement, first in the block; its list may span lines (nocmodl line limit).
    locals_ = ["uax", "aax", "sax"] + [f"hid{j + 1}x" for j in range(n_hidden)]
    lines.append("    LOCAL " + ",\n        ".join(locals_))
    if table is not None:
        outs = [f"zinf{k + 1}x" for k in range(k_states)] + [
            f"ztau{k + 1}x" for k in range(k_states)]
        lines.append("    TABLE " + ",\n        ".join(outs))
        lines.append(
            f"        FROM {_lit(table.vmin_mV)} TO {_lit(table.vmax_mV)} WITH {table.n_intervals}")
    lines.append(f"    uax = {_normalised_u(model, 'vm')}")
    for j in range(n_hidden):
        lines.append(f"    hid{j + 1}x = tanh({_affine(p['w_in'][j], 'uax', p['b_in'][j])})")
    for k in range(k_states):
        lines.append(f"    : state {k + 1}: z_inf = logistic(a), tau = tau_min + exp(clip(s))")
        lines.append(f"    aax = {_affine(p['a_lin'][k], 'uax', p['a0'][k])}")
        lines += [f"    aax = aax{_plus(p['A'][k, j], f'hid{j + 1}x')}"
                  for j in range(n_hidden) if p["A"][k, j] != 0.0]
        lines.append(f"    zinf{k + 1}x = axlogistic(aax)")
        lines.append(f"    sax = {_affine(p['s_lin'][k], 'uax', p['s0'][k])}")
        lines += [f"    sax = sax{_plus(p['S'][k, j], f'hid{j + 1}x')}"
                  for j in range(n_hidden) if p["S"][k, j] != 0.0]
        lines.append(f"    ztau{k + 1}x = {_lit(model.tau_min_ms)} + axexpclip(sax)")
    lines.append("}")
    return lines


def _readout(model: GatedAxialCurrent, p: dict[str, np.ndarray]) -> list[str]:
    lines = [f"    uax = {_normalised_u(model, 'v')}",
             f"    i = {_affine(p['w_u'], 'uax', p['bias_nA'])}"]
    for k in range(model.n_states):
        w, q, z = p["w"][k], p["q"][k], state_name(k)
        if q != 0.0:
            lines.append(f"    i = i + ({_affine(q, 'uax', w)}) * {z}")
        elif w != 0.0:
            lines.append(f"    i = i{_plus(w, z)}")
    return lines


def _render(model: GatedAxialCurrent, p: dict[str, np.ndarray], cell_name: str,
            table: TableSpec | None) -> str:
    from reducer import __version__

    k_states, n_hidden = model.n_states, model.n_hidden
    table_note = ("z_inf and tau are tabulated: TABLE FROM "
                  f"{table.vmin_mV} TO {table.vmax_mV} mV WITH {table.n_intervals} intervals "
                  "(linear interpolation; clamped to the end values outside the range)"
                  if table else "z_inf and tau are computed exactly at every step (no TABLE)")
    out = [
        f"TITLE Learned axial current of {comment_safe(cell_name, 40)} (reduce-cell)",
        "",
        "COMMENT",
        f"Generated by reduce-cell {__version__} (mod_export) from a trained GatedAxialCurrent",
        f"with {k_states} gating states and {n_hidden} hidden units. Do not edit: re-export the",
        "saved model instead. Method: Beck, Deistler, Molnar, Macke, Berens (2026), Learning",
        "Hybrid Biophysical Neuron Models with Neural ODEs.",
        "",
        "    u       = (v - v_offset) / v_scale",
        "    hid_j   = tanh(w_in_j u + b_in_j)",
        "    z_inf_k = logistic(a_lin_k u + a0_k + sum_j A_kj hid_j)",
        f"    tau_k   = tau_min + exp(clip(s_lin_k u + s0_k + sum_j S_kj hid_j, +-{S_CLIP}))  (ms)",
        "    dz_k/dt = (z_inf_k - z_k) / tau_k                     (cnexp)",
        "    i       = sum_k (w_k + q_k u) z_k + w_u u + bias      (nA, into the soma)",
        "",
        *textwrap.wrap(f"{table_note}.", 92),
        *([f"Switch the table off at run time with usetable_{_PLACEHOLDER} = 0."]
          if table else []),
        "The weights are float64 literals; the mechanism name carries a hash of this text.",
        "ENDCOMMENT",
        "",
        "NEURON {",
        f"    POINT_PROCESS {_PLACEHOLDER}",
        "    ELECTRODE_CURRENT i",
        "    RANGE i",
        "    THREADSAFE",
        "}",
        "",
        "UNITS {",
        "    (nA) = (nanoamp)",
        "    (mV) = (millivolt)",
        "}",
        "",
        "ASSIGNED {",
        "    v (mV)",
        "    i (nA)",
    ]
    out += [f"    zinf{k + 1}x" for k in range(k_states)]
    out += [f"    ztau{k + 1}x (ms)" for k in range(k_states)]
    out += ["}", "", "STATE {"]
    out += [f"    {state_name(k)}" for k in range(k_states)]
    out += ["}", "", "INITIAL {", "    axgates(v)"]
    out += [f"    {state_name(k)} = zinf{k + 1}x" for k in range(k_states)]
    out += ["}", "", "BREAKPOINT {", "    LOCAL uax", "    SOLVE axstates METHOD cnexp"]
    out += _readout(model, p)
    out += ["}", "", "DERIVATIVE axstates {", "    axgates(v)"]
    out += [f"    {state_name(k)}' = (zinf{k + 1}x - {state_name(k)}) / ztau{k + 1}x"
            for k in range(k_states)]
    out += ["}", ""]
    out += _gates_procedure(model, p, table)
    clip = _lit(S_CLIP)
    out += [
        "",
        "FUNCTION axlogistic(a) {",
        "    : 1 / (1 + exp(-a)) without overflow: the exp argument is never positive",
        "    if (a >= 0) {",
        "        axlogistic = 1 / (1 + exp(-a))",
        "    } else {",
        "        axlogistic = exp(a) / (1 + exp(a))",
        "    }",
        "}",
        "",
        "FUNCTION axexpclip(s) {",
        f"    : exp(clip(s, -{clip}, {clip})): keeps tau finite, as in the JAX model",
        f"    if (s > {clip}) {{",
        f"        axexpclip = exp({clip})",
        f"    }} else if (s < -{clip}) {{",
        f"        axexpclip = exp(-{clip})",
        "    } else {",
        "        axexpclip = exp(s)",
        "    }",
        "}",
        "",
    ]
    return "\n".join(out)


def render_axial_mod(model: GatedAxialCurrent, cell_name: str = "cell", *,
                     use_table: bool = False, table: TableSpec | None = None) -> tuple[str, str]:
    """Return ``(mechanism_name, mod_text)`` for ``model``.

    Args:
        model: the trained axial current.
        cell_name: name of the original cell, used in the mechanism name and the title.
        use_table: tabulate z_inf and tau (functions of V alone) with an NMODL TABLE.
        table: range and resolution of the table (default :class:`TableSpec`).

    Raises:
        ExportError: the model has NaN/inf parameters or inconsistent shapes.
    """
    arrays = check_model(model)
    spec = (table or TableSpec()) if use_table else None
    if spec is not None and not (spec.vmax_mV > spec.vmin_mV and spec.n_intervals >= 1):
        raise ExportError(f"invalid table {spec}: need vmax_mV > vmin_mV and n_intervals >= 1")
    text = _render(model, arrays, cell_name, spec)
    name = mechanism_name(cell_name, content_hash(text))
    return name, text.replace(_PLACEHOLDER, name)


def check_nmodl_syntax(text: str, source: str) -> None:
    """Parse ``text`` with NEURON's bundled NMODL parser; raise ExportError on a syntax error."""
    from neuron import nmodl

    try:
        nmodl.NmodlDriver().parse_string(text)
    except RuntimeError as exc:
        raise ExportError(
            f"generated NMODL for {source} does not parse: {exc}; this is a bug in "
            "mod_export, please report it with the saved model"
        ) from exc


def write_axial_mod(model: GatedAxialCurrent, mod_dir: str | Path, cell_name: str = "cell", *,
                    use_table: bool = False, table: TableSpec | None = None) -> Path:
    """Write ``<mod_dir>/<mechanism>.mod`` (atomically) and return its path.

    The mechanism name is the file's stem: ``ax_<cell>_<8-hex hash of the text>``. The text
    is checked with NEURON's NMODL parser before it is written.

    Raises:
        ExportError: bad model (NaN weights, shapes) or text that does not parse.
    """
    name, text = render_axial_mod(model, cell_name, use_table=use_table, table=table)
    check_nmodl_syntax(text, f"mechanism {name}")
    path = Path(mod_dir) / f"{name}.mod"
    atomic_write_text(path, text)
    return path
