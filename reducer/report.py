"""Validation report: ``metrics.json`` and a self-contained ``report.html``.

The caller (``reducer.validate`` / the CLI) runs the full and the reduced cell in NEURON on the
held-out protocols and times them; this module turns those traces and timings into numbers
(with :mod:`reducer.metrics`) and a readable page (plots from :mod:`reducer.plots`, embedded as
base64 PNGs so the HTML is one file).

``metrics.json`` layout (all floats finite or ``null``; JSON has no NaN)::

    schema_version, cell_name, provenance{...}
    heldout{gamma_4ms, gamma_2ms, v_rmse_mV, subthreshold_rmse_mV, spike_count_error, ...,
            per_protocol[{name, kind, regime, <metrics>, baseline{...}?, jax_vs_neuron{...}?,
                          axial{...}?, full_cell_perturbed[...]?}],
            full_cell_perturbed[{offset_pA, offset_pct_rheobase?, gamma_4ms, gamma_2ms, ...}]?,
            reproducible{offset_pA, min_full_cell_gamma_4ms, protocols, gamma_4ms, ...}?}
    baseline{same summary keys} | null          linear filter-bank baseline, where given
    jax_vs_neuron{same summary keys} | null     JAX twin against the NEURON reduced cell
    speed{full_s, reduced_s, soma_only_s, speedup, floor_speedup, baseline_s, baseline_speedup,
          jax_s, simulated_ms, repeats}
    fi_curve{amplitudes_nA, rate_full_hz, rate_reduced_hz, rate_baseline_hz} | null
    learned_curves{n_states, v_min_mV, v_max_mV, tau_min_ms, tau_max_ms} | null
    training{stages{name: {n_steps, final_loss, min_loss, wall_time_s}}, chosen_checkpoint,
             loss_history{name: [...]}} | null
    notes[...]

``full_cell_perturbed`` (schema 2: a list, one entry per offset size, ascending) scores the
full cell against itself with ±x pA added to the held-out stimulus: a Γ the full cell loses
to a few pA of input is a Γ no reduction can be expected to reach. ``reproducible`` averages
the reduced cell's Γ over the protocols the full cell keeps at Γ(4 ms) ≥ 0.85 with the largest
offset; ``gamma_4ms`` above stays the mean over all held-out protocols.

Summary keys are those of :func:`reducer.metrics.summarise`: means over protocols, NaN Γ
(no spikes in either trace) left out and counted in ``n_gamma_4ms``; ``spike_count_error`` is
the mean absolute count error.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reducer import __version__, plots
from reducer.metrics import (
    SPIKE_THRESHOLD_mV,
    compare_traces,
    nanmean_over,
    spike_shift_ms,
    spike_times,
    summarise,
)
from reducer.protocols import DC_KEEP_BELOW_MV
from reducer.synaptic import STUCK_MS

SCHEMA_VERSION = 2


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _vec(owner: str, name: str, x: Any, n: int | None = None) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{owner}: {name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.size != n:
        raise ValueError(f"{owner}: {name} has {arr.size} samples, expected {n}")
    return arr


def _opt_vec(owner: str, name: str, x: Any, n: int) -> np.ndarray | None:
    return None if x is None else _vec(owner, name, x, n)


@dataclass
class Provenance:
    """Where the numbers come from.

    Attributes:
        cell_hash: content hash of the cell (morphology, biophysics, mechanisms).
        seed: random seed of training.
        neuron_version: ``neuron.__version__`` of the validation runs.
        dt_ms: fixed time step of the NEURON runs (ms).
        celsius: temperature of the runs (degC).
        reducer_version: reduce-cell version (defaults to the installed one).
        date: ISO 8601 time of the validation (defaults to now, UTC).
        extra: anything else worth recording (host, JAX version, model folder ...).
    """

    cell_hash: str
    seed: int
    neuron_version: str
    dt_ms: float
    celsius: float
    reducer_version: str = __version__
    date: str = field(default_factory=_utc_now)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class HeldoutProtocol:
    """One held-out protocol: full cell against reduced cell, both run in NEURON.

    Arrays are converted to float64 and checked to share ``t_ms``'s length.

    Attributes:
        name: protocol name, e.g. ``"step_1.2nA"``.
        kind: protocol family: ``"step"``, ``"ou_noise"``, ``"ramp"``, ``"chirp"`` ...
        regime: why it is held out / in or out of distribution, e.g.
            ``"out of distribution: amplitude 1.2 nA never trained on"``.
        t_ms: sample times (ms).
        i_stim_nA: injected current (nA).
        v_full_mV: soma voltage of the full cell (mV).
        v_reduced_mV: soma voltage of the exported reduced cell in NEURON (mV).
        v_jax_mV: optional JAX simulation of the same reduced model (mV).
        v_baseline_mV: optional linear filter-bank baseline in NEURON (mV).
        i_axial_full_nA: optional exact axial current of the full cell (nA).
        i_axial_reduced_nA: optional learned axial current in the reduced cell (nA).
        stim_window_ms: optional (start, end) over which spike metrics and rates are computed
            (e.g. the step); ``None`` = the whole trace. Voltage RMSEs always use the whole trace.
        v_full_perturbed_mV: optional full-cell traces of the same protocol with a tiny
            constant current added, keyed by offset in pA (e.g. ``{1.0: v, -1.0: v}``): the
            full cell against itself says how attainable a Γ is on this protocol.
    """

    name: str
    kind: str
    regime: str
    t_ms: np.ndarray
    i_stim_nA: np.ndarray
    v_full_mV: np.ndarray
    v_reduced_mV: np.ndarray
    v_jax_mV: np.ndarray | None = None
    v_baseline_mV: np.ndarray | None = None
    i_axial_full_nA: np.ndarray | None = None
    i_axial_reduced_nA: np.ndarray | None = None
    stim_window_ms: tuple[float, float] | None = None
    v_full_perturbed_mV: dict[float, np.ndarray] | None = None

    def __post_init__(self) -> None:
        who = f"held-out protocol {self.name!r}"
        self.t_ms = _vec(who, "t_ms", self.t_ms)
        n = self.t_ms.size
        if n < 2:
            raise ValueError(f"{who}: needs at least two samples")
        self.i_stim_nA = _vec(who, "i_stim_nA", self.i_stim_nA, n)
        self.v_full_mV = _vec(who, "v_full_mV", self.v_full_mV, n)
        self.v_reduced_mV = _vec(who, "v_reduced_mV", self.v_reduced_mV, n)
        self.v_jax_mV = _opt_vec(who, "v_jax_mV", self.v_jax_mV, n)
        self.v_baseline_mV = _opt_vec(who, "v_baseline_mV", self.v_baseline_mV, n)
        self.i_axial_full_nA = _opt_vec(who, "i_axial_full_nA", self.i_axial_full_nA, n)
        self.i_axial_reduced_nA = _opt_vec(who, "i_axial_reduced_nA", self.i_axial_reduced_nA, n)
        if self.stim_window_ms is not None:
            self.stim_window_ms = (float(self.stim_window_ms[0]), float(self.stim_window_ms[1]))
        if self.v_full_perturbed_mV is not None:
            self.v_full_perturbed_mV = {
                float(k): _vec(who, f"v_full_perturbed_mV[{k:g} pA]", v, n)
                for k, v in self.v_full_perturbed_mV.items()
            }


@dataclass
class LearnedCurves:
    """The learned gates as functions of voltage.

    Attributes:
        v_mV: voltage grid (n,).
        z_inf: steady states, shape (K, n), in [0, 1].
        tau_ms: time constants (ms), shape (K, n), > 0.
    """

    v_mV: np.ndarray
    z_inf: np.ndarray
    tau_ms: np.ndarray

    def __post_init__(self) -> None:
        self.v_mV = _vec("learned_curves", "v_mV", self.v_mV)
        self.z_inf = np.atleast_2d(np.asarray(self.z_inf, dtype=float))
        self.tau_ms = np.atleast_2d(np.asarray(self.tau_ms, dtype=float))
        want = (self.z_inf.shape[0], self.v_mV.size)
        for name, arr in (("z_inf", self.z_inf), ("tau_ms", self.tau_ms)):
            if arr.shape != want:
                raise ValueError(f"learned_curves: {name} has shape {arr.shape}, expected {want}")


@dataclass
class FICurve:
    """Firing rate during a step against step amplitude.

    Attributes:
        amplitudes_nA: step amplitudes (nA).
        rate_full_hz: full-cell rates (Hz).
        rate_reduced_hz: reduced-cell rates in NEURON (Hz).
        rate_baseline_hz: optional linear-baseline rates (Hz).
    """

    amplitudes_nA: np.ndarray
    rate_full_hz: np.ndarray
    rate_reduced_hz: np.ndarray
    rate_baseline_hz: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.amplitudes_nA = _vec("fi_curve", "amplitudes_nA", self.amplitudes_nA)
        n = self.amplitudes_nA.size
        self.rate_full_hz = _vec("fi_curve", "rate_full_hz", self.rate_full_hz, n)
        self.rate_reduced_hz = _vec("fi_curve", "rate_reduced_hz", self.rate_reduced_hz, n)
        self.rate_baseline_hz = _opt_vec("fi_curve", "rate_baseline_hz", self.rate_baseline_hz, n)


@dataclass
class SpeedTimings:
    """Wall times (s) of one protocol in NEURON: median of ``repeats`` runs, same process.

    Attributes:
        full_s: full multicompartment cell.
        reduced_s: exported reduced cell (soma channels + learned current).
        soma_only_s: soma alone with its channels, no axial current (the floor).
        simulated_ms: simulated time of the timed protocol (ms).
        repeats: runs the medians are over.
        baseline_s: optional linear filter-bank baseline cell.
        jax_s: optional JAX simulation time of the same protocol (after compilation).
    """

    full_s: float
    reduced_s: float
    soma_only_s: float
    simulated_ms: float
    repeats: int
    baseline_s: float | None = None
    jax_s: float | None = None

    @property
    def speedup(self) -> float:
        """Full-cell time over reduced-cell time."""
        return _ratio(self.full_s, self.reduced_s)

    @property
    def floor_speedup(self) -> float:
        """Full-cell time over soma-only time: the best any reduced cell can do."""
        return _ratio(self.full_s, self.soma_only_s)

    @property
    def baseline_speedup(self) -> float | None:
        """Full-cell time over baseline-cell time, if the baseline was timed."""
        return None if self.baseline_s is None else _ratio(self.full_s, self.baseline_s)


@dataclass
class TrainingSummary:
    """How the model was trained.

    Attributes:
        loss_history: loss per step for each stage, in stage order (e.g. "open_loop",
            "closed_loop").
        wall_time_s: wall time per stage (s).
        chosen_checkpoint: which checkpoint was exported and why (e.g. "closed_loop step 340:
            best validation Γ(4 ms)").
        loss_label: y-axis label of the loss plots (say what the loss is and its unit).
    """

    loss_history: dict[str, list[float]]
    wall_time_s: dict[str, float] = field(default_factory=dict)
    chosen_checkpoint: str | None = None
    loss_label: str = "loss"


@dataclass
class ReportData:
    """Everything :func:`write_report` needs.

    Attributes:
        cell_name: the cell's name (report title).
        provenance: see :class:`Provenance`.
        heldout: held-out protocols (never seen in training), at least one.
        speed: NEURON timings, see :class:`SpeedTimings`.
        learned_curves: optional learned z_inf(V), tau(V).
        fi_curve: optional f–I curve.
        training: optional loss histories and wall times.
        notes: free-form remarks shown in the report and kept in metrics.json.
        timestep_check: optional fixed-step vs ODE comparison (:mod:`reducer.timestep`).
        synaptic_check: optional depolarisation-block check under synaptic input
            (:func:`reducer.synaptic.synaptic_check`).
        holds: optional held-depolarised training steps: {"option": "on" | "off" | "auto",
            "used": bool}, and for "auto" the check of the model trained without them
            ("no_holds_check") and, if it was set aside, where ("no_holds_export").
    """

    cell_name: str
    provenance: Provenance
    heldout: list[HeldoutProtocol]
    speed: SpeedTimings
    learned_curves: LearnedCurves | None = None
    fi_curve: FICurve | None = None
    training: TrainingSummary | None = None
    notes: list[str] = field(default_factory=list)
    timestep_check: dict[str, Any] | None = None
    synaptic_check: dict[str, Any] | None = None
    holds: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.heldout:
            raise ValueError("ReportData.heldout is empty: the report needs held-out protocols")
        names = [p.name for p in self.heldout]
        if len(set(names)) != len(names):
            raise ValueError(f"held-out protocol names are not unique: {names}")


def _ratio(a: float | None, b: float | None) -> float:
    if a is None or b is None or not b > 0:
        return float("nan")
    return float(a) / float(b)


# --------------------------------------------------------------------------- metrics


def _axial_metrics(i_ref: np.ndarray, i_model: np.ndarray) -> dict[str, float]:
    err = i_model - i_ref
    ss_tot = float(np.sum((i_ref - i_ref.mean()) ** 2))
    r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")
    return {"rmse_nA": float(np.sqrt(np.mean(err**2))), "r2": r2}


def protocol_metrics(p: HeldoutProtocol) -> dict[str, Any]:
    """Metrics of one held-out protocol (reduced cell; baseline, JAX twin, axial current if given).

    Returns:
        ``name``, ``kind``, ``regime``, ``stim_window_ms``, ``duration_ms``, the keys of
        :func:`reducer.metrics.compare_traces` for the reduced cell, and where the data exist
        ``baseline`` (same keys), ``jax_vs_neuron`` (JAX twin against NEURON reduced cell, plus
        ``max_spike_shift_ms`` and ``max_abs_dv_mV``) and ``axial`` (``rmse_nA``, ``r2``).
    """
    out: dict[str, Any] = {
        "name": p.name,
        "kind": p.kind,
        "regime": p.regime,
        "stim_window_ms": list(p.stim_window_ms) if p.stim_window_ms else None,
        "duration_ms": float(p.t_ms[-1] - p.t_ms[0]),
    }
    out.update(compare_traces(p.t_ms, p.v_full_mV, p.v_reduced_mV, p.stim_window_ms))
    full_range = _finite_range(p.v_full_mV)
    out["v_range_mV"] = {"full": full_range, "reduced": _finite_range(p.v_reduced_mV)}
    out["beyond_range_mV"] = _beyond_range_mV(full_range, p.v_reduced_mV)
    out["runs_away"] = bool(out["beyond_range_mV"] > RANGE_MARGIN_MV)
    if p.v_baseline_mV is not None:
        out["baseline"] = compare_traces(p.t_ms, p.v_full_mV, p.v_baseline_mV, p.stim_window_ms)
    if p.v_jax_mV is not None:
        jm: dict[str, Any] = compare_traces(p.t_ms, p.v_reduced_mV, p.v_jax_mV, p.stim_window_ms)
        jm["max_abs_dv_mV"] = float(np.max(np.abs(p.v_jax_mV - p.v_reduced_mV)))
        jm["max_spike_shift_ms"] = spike_shift_ms(
            spike_times(p.t_ms, p.v_reduced_mV), spike_times(p.t_ms, p.v_jax_mV), 4.0
        )
        out["jax_vs_neuron"] = jm
    if p.i_axial_full_nA is not None and p.i_axial_reduced_nA is not None:
        out["axial"] = _axial_metrics(p.i_axial_full_nA, p.i_axial_reduced_nA)
    if p.v_full_perturbed_mV:
        out["full_cell_perturbed"] = _perturbed_metrics(p)
    return out


# A reduced trace that goes this far below the full cell's lowest voltage, or above its
# highest, on the same protocol has run away (e.g. a learned state drifting under
# hyperpolarisation): the report names it.
RANGE_MARGIN_MV = 20.0


def _finite_range(v: np.ndarray) -> list[float] | None:
    v = v[np.isfinite(v)]
    return [float(v.min()), float(v.max())] if v.size else None


def _beyond_range_mV(full: list[float] | None, v_reduced: np.ndarray) -> float:
    """How far (mV) the reduced trace goes below the full cell's lowest voltage or above its
    highest (``full``, from :func:`_finite_range`): 0 inside, inf for a trace that is not
    finite."""
    if full is None:
        return 0.0
    if not np.all(np.isfinite(v_reduced)):
        return math.inf
    return max(full[0] - float(v_reduced.min()), float(v_reduced.max()) - full[1], 0.0)


def range_message(per: list[dict[str, Any]]) -> str:
    """Names the held-out protocols on which the reduced cell leaves the full cell's voltage
    range by more than :data:`RANGE_MARGIN_MV` (``runs_away``); "" when there are none."""
    bad = []
    for p in per:
        if not p.get("runs_away"):
            continue
        r, f, b = p["v_range_mV"]["reduced"], p["v_range_mV"]["full"], p["beyond_range_mV"]
        if b is None or not math.isfinite(b) or not r:  # inf is None in metrics.json
            bad.append(f"{p['name']} (not finite)")
        else:
            bad.append(f"{p['name']} (reduced {r[0]:.0f} to {r[1]:.0f} mV, full {f[0]:.0f} to "
                       f"{f[1]:.0f} mV)")
    if not bad:
        return ""
    return (f"the reduced cell leaves the full cell's voltage range by more than "
            f"{RANGE_MARGIN_MV:g} mV on {', '.join(bad)}: it runs away there; do not use it "
            "in that regime, or try another --seed or --holds on (README).")


def _perturbed_metrics(p: HeldoutProtocol) -> list[dict[str, Any]]:
    """Γ of the full cell against itself with ±x pA added: one entry per magnitude x
    (ascending), averaged over its signs."""
    by_size: dict[float, list[float]] = {}
    for k in sorted(p.v_full_perturbed_mV):
        by_size.setdefault(abs(k), []).append(k)
    out = []
    for size, offsets in sorted(by_size.items()):
        runs = [compare_traces(p.t_ms, p.v_full_mV, p.v_full_perturbed_mV[k], p.stim_window_ms)
                for k in offsets]
        s = summarise(runs)
        out.append({"offset_pA": size, "offsets_pA": offsets, "gamma_4ms": s["gamma_4ms"],
                    "gamma_2ms": s["gamma_2ms"], "n_spikes": [r["n_spikes_model"] for r in runs]})
    return out


def _perturbed_summary(per: list[dict[str, Any]], rheobase_nA: float | None = None
                       ) -> list[dict[str, Any]] | None:
    """Per offset magnitude, the mean over held-out protocols of the full cell's Γ against
    itself (NaN skipped); with the rheobase, each size also as a percentage of it."""
    rows: dict[float, list[dict[str, Any]]] = {}
    for p in per:
        for e in p.get("full_cell_perturbed") or []:
            rows.setdefault(e["offset_pA"], []).append(e)
    if not rows:
        return None
    out = []
    for size, entries in sorted(rows.items()):
        s: dict[str, Any] = {"offset_pA": size, "n_protocols": len(entries)}
        if rheobase_nA:
            s["offset_pct_rheobase"] = 100.0 * size * 1e-3 / rheobase_nA
        for key in ("gamma_4ms", "gamma_2ms"):
            s[key], s[f"n_{key}"] = nanmean_over(entries, key)
        out.append(s)
    return out


def _perturbed_by_size(protocol: dict[str, Any]) -> dict[float, dict[str, Any]]:
    """{offset size in pA: entry} of one protocol's ``full_cell_perturbed`` list."""
    return {e["offset_pA"]: e for e in protocol.get("full_cell_perturbed") or []}


def perturbation_label(entry: dict[str, Any]) -> str:
    """"±2.89 pA (1 % of rheobase)" for an entry of the summary ``full_cell_perturbed`` list
    in metrics.json (or of ``reproducible``); without the rheobase just "±2.89 pA"."""
    pct = entry.get("offset_pct_rheobase")
    return f"±{entry['offset_pA']:g} pA" + (f" ({pct:.2g} % of rheobase)" if pct else "")


# A held-out protocol counts as reproducible if the full cell, with the largest sensitivity
# offset added, still scores at least this Γ(4 ms) against itself.
REPRODUCIBLE_GAMMA_4MS = 0.85


def _reproducible_summary(per: list[dict[str, Any]], perturbed: list[dict[str, Any]]
                          ) -> dict[str, Any]:
    """The reduced cell's Γ averaged over the held-out protocols the full cell reproduces.

    A protocol qualifies when the full cell with ± the largest offset added keeps Γ(4 ms) ≥
    ``REPRODUCIBLE_GAMMA_4MS`` against itself: there a model whose current is right to within
    that offset could score as well. The rule looks only at the full cell, never at the
    reduced one. The all-protocol mean stays the headline; this one says how much of the gap
    is the protocols' own sensitivity.
    """
    largest = perturbed[-1]
    size = largest["offset_pA"]
    rows = []
    for p in per:
        own = _perturbed_by_size(p)
        g = own[size]["gamma_4ms"] if size in own else None
        if g is not None and math.isfinite(g) and g >= REPRODUCIBLE_GAMMA_4MS:
            rows.append(p)
    out: dict[str, Any] = {k: largest[k] for k in ("offset_pA", "offset_pct_rheobase")
                           if k in largest}
    out.update(min_full_cell_gamma_4ms=REPRODUCIBLE_GAMMA_4MS,
               protocols=[p["name"] for p in rows], n_protocols=len(rows))
    for key in ("gamma_4ms", "gamma_2ms"):
        out[key], out[f"n_{key}"] = nanmean_over(rows, key)
    return out


def build_metrics(data: ReportData) -> dict[str, Any]:
    """The metrics.json content as a Python dict (NaN still NaN; see :func:`to_jsonable`)."""
    per = [protocol_metrics(p) for p in data.heldout]
    heldout: dict[str, Any] = dict(summarise(per))
    heldout["per_protocol"] = per
    perturbed = _perturbed_summary(per, data.provenance.extra.get("rheobase_nA"))
    if perturbed is not None:
        heldout["full_cell_perturbed"] = perturbed
        heldout["reproducible"] = _reproducible_summary(per, perturbed)
    base = [p["baseline"] for p in per if "baseline" in p]
    jax_runs = [p["jax_vs_neuron"] for p in per if "jax_vs_neuron" in p]
    jax_summary: dict[str, Any] | None = None
    if jax_runs:
        jax_summary = dict(summarise(jax_runs))
        jax_summary["max_abs_dv_mV"] = max(j["max_abs_dv_mV"] for j in jax_runs)
        shifts = [j["max_spike_shift_ms"] for j in jax_runs]
        shifts = [x for x in shifts if math.isfinite(x)]
        jax_summary["max_spike_shift_ms"] = max(shifts) if shifts else float("nan")
    s = data.speed
    speed = {
        "full_s": s.full_s,
        "reduced_s": s.reduced_s,
        "soma_only_s": s.soma_only_s,
        "speedup": s.speedup,
        "floor_speedup": s.floor_speedup,
        "baseline_s": s.baseline_s,
        "baseline_speedup": s.baseline_speedup,
        "jax_s": s.jax_s,
        "simulated_ms": s.simulated_ms,
        "repeats": s.repeats,
    }
    fi = data.fi_curve
    lc = data.learned_curves
    tr = data.training
    return {
        "schema_version": SCHEMA_VERSION,
        "cell_name": data.cell_name,
        "provenance": {
            "cell_hash": data.provenance.cell_hash,
            "seed": data.provenance.seed,
            "reducer_version": data.provenance.reducer_version,
            "neuron_version": data.provenance.neuron_version,
            "date": data.provenance.date,
            "dt_ms": data.provenance.dt_ms,
            "celsius": data.provenance.celsius,
            "spike_threshold_mV": SPIKE_THRESHOLD_mV,
            **({"extra": data.provenance.extra} if data.provenance.extra else {}),
        },
        "heldout": heldout,
        "baseline": dict(summarise(base)) if base else None,
        "jax_vs_neuron": jax_summary,
        "timestep_check": data.timestep_check,
        "synaptic_check": data.synaptic_check,
        "holds": data.holds,
        "speed": speed,
        "fi_curve": None
        if fi is None
        else {
            "amplitudes_nA": fi.amplitudes_nA,
            "rate_full_hz": fi.rate_full_hz,
            "rate_reduced_hz": fi.rate_reduced_hz,
            "rate_baseline_hz": fi.rate_baseline_hz,
        },
        "learned_curves": None
        if lc is None
        else {
            "n_states": int(lc.z_inf.shape[0]),
            "v_min_mV": float(lc.v_mV.min()),
            "v_max_mV": float(lc.v_mV.max()),
            "tau_min_ms": float(np.nanmin(lc.tau_ms)),
            "tau_max_ms": float(np.nanmax(lc.tau_ms)),
        },
        "training": None if tr is None else _training_summary(tr),
        "notes": list(data.notes),
    }


def _training_summary(tr: TrainingSummary) -> dict[str, Any]:
    stages = {}
    for name in list(tr.loss_history) + [n for n in tr.wall_time_s if n not in tr.loss_history]:
        loss = np.asarray(tr.loss_history.get(name, []), dtype=float)
        finite = loss[np.isfinite(loss)]
        stages[name] = {
            "n_steps": int(loss.size),
            "final_loss": float(loss[-1]) if loss.size else None,
            "min_loss": float(finite.min()) if finite.size else None,
            "wall_time_s": tr.wall_time_s.get(name),
        }
    return {
        "stages": stages,
        "chosen_checkpoint": tr.chosen_checkpoint,
        "loss_history": {k: list(v) for k, v in tr.loss_history.items()},
    }


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types: numpy → Python, arrays → lists, NaN / ±inf → ``None``."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


# --------------------------------------------------------------------------- files


def _atomic_write(path: Path, data: bytes) -> None:
    # A unique name beside the target (same filesystem, so os.replace is atomic); plain open()
    # rather than mkstemp so the file gets the usual umask permissions, not 0600.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_report(
    out_dir: str | Path, data: ReportData, save_figures: bool = False
) -> tuple[Path, Path]:
    """Compute the metrics and write ``metrics.json`` and ``report.html`` into ``out_dir``.

    Both files are written atomically (temporary file, then ``os.replace``).

    Args:
        out_dir: output folder (created if missing).
        data: traces, timings and provenance, see :class:`ReportData`.
        save_figures: also write each figure as ``figures/<name>.png`` (the HTML does not
            need them; handy for README images).

    Returns:
        ``(metrics_json_path, report_html_path)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = to_jsonable(build_metrics(data))
    text = json.dumps(metrics, indent=2, allow_nan=False)
    figures = _figures(data, metrics)
    page = _render_html(data, metrics, figures)
    if save_figures:
        (out / "figures").mkdir(exist_ok=True)
        for name, png in figures.items():
            _atomic_write(out / "figures" / f"{name}.png", png)
    json_path, html_path = out / "metrics.json", out / "report.html"
    _atomic_write(json_path, (text + "\n").encode())
    _atomic_write(html_path, page.encode())
    return json_path, html_path


# --------------------------------------------------------------------------- figures


def _figures(data: ReportData, metrics: dict[str, Any]) -> dict[str, bytes]:
    figs: dict[str, bytes] = {}
    for i, p in enumerate(data.heldout):
        spikes = {
            "full": spike_times(p.t_ms, p.v_full_mV),
            "reduced": spike_times(p.t_ms, p.v_reduced_mV),
        }
        if p.v_jax_mV is not None:
            spikes["jax"] = spike_times(p.t_ms, p.v_jax_mV)
        if p.v_baseline_mV is not None:
            spikes["baseline"] = spike_times(p.t_ms, p.v_baseline_mV)
        m = metrics["heldout"]["per_protocol"][i]
        title = (
            f"{p.name} ({p.kind}) — {p.regime}\n"
            f"Γ(4 ms) {_fmt(m['gamma_4ms'])}, Γ(2 ms) {_fmt(m['gamma_2ms'])}, "
            f"RMSE {_fmt(m['v_rmse_mV'], 2)} mV, spikes {m['n_spikes_model']} "
            f"vs {m['n_spikes_ref']} (full)"
        )
        zoom = plots.zoom_window(p.t_ms, spikes["full"], spikes["reduced"], p.i_stim_nA)
        figs[f"protocol_{i:02d}"] = plots.protocol_figure(
            title,
            p.t_ms,
            p.i_stim_nA,
            p.v_full_mV,
            p.v_reduced_mV,
            spikes,
            zoom,
            v_jax_mV=p.v_jax_mV,
            v_baseline_mV=p.v_baseline_mV,
            i_axial_full_nA=p.i_axial_full_nA,
            i_axial_reduced_nA=p.i_axial_reduced_nA,
        )
    if data.learned_curves is not None:
        lc = data.learned_curves
        figs["learned_curves"] = plots.learned_curves_figure(lc.v_mV, lc.z_inf, lc.tau_ms)
    if data.fi_curve is not None:
        fi = data.fi_curve
        figs["fi_curve"] = plots.fi_figure(
            fi.amplitudes_nA, fi.rate_full_hz, fi.rate_reduced_hz, fi.rate_baseline_hz
        )
    if data.training is not None and any(len(h) for h in data.training.loss_history.values()):
        figs["training"] = plots.training_figure(
            data.training.loss_history, data.training.loss_label
        )
    return figs


# --------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
img { max-width: 100%; display: block; margin: .5em 0 1.5em; }
.note { color: #555; font-size: .9em; }
"""


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    return f"{float(x):.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], left_cols: int = 1) -> str:
    def cell(tag: str, i: int, v: Any) -> str:
        cls = ' class="l"' if i < left_cols else ""
        return f"<{tag}{cls}>{v}</{tag}>"

    head = "".join(cell("th", i, html.escape(str(h))) for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(png: bytes, alt: str) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def _gamma_cell(summary: dict[str, Any], key: str) -> str:
    n = summary.get(f"n_{key}", 0)
    return f"{_fmt(summary.get(key))} <span class='note'>({n}/{summary['n_protocols']})</span>"


def _summary_table(metrics: dict[str, Any]) -> str:
    h, b, sp = metrics["heldout"], metrics["baseline"], metrics["speed"]
    header = ["held-out protocols", "reduced (trained)"] + (
        ["linear filter-bank baseline"] if b else []
    )

    def row(label: str, fn) -> list[str]:
        return [html.escape(label), fn(h)] + ([fn(b)] if b else [])

    rows = [
        row("Γ(4 ms), mean (defined / protocols)", lambda s: _gamma_cell(s, "gamma_4ms")),
        row("Γ(2 ms), mean (defined / protocols)", lambda s: _gamma_cell(s, "gamma_2ms")),
        row("voltage RMSE (mV)", lambda s: _fmt(s["v_rmse_mV"], 2)),
        row("subthreshold RMSE, ±5 ms cut (mV)", lambda s: _fmt(s["subthreshold_rmse_mV"], 2)),
        row(
            "spikes: model / full (total)", lambda s: f"{s['n_spikes_model']} / {s['n_spikes_ref']}"
        ),
        row("mean |spike-count error|", lambda s: _fmt(s["spike_count_error"], 2)),
        [html.escape("speed-up vs full cell (NEURON)"), _fmt(sp["speedup"], 1) + "×"]
        + ([_fmt(sp["baseline_speedup"], 1) + "×"] if b else []),
    ]
    # After the two Γ rows: what Γ the protocols allow, one row per offset size, and the
    # reduced cell's Γ on the protocols the full cell reproduces.
    extra = []
    for fp in h.get("full_cell_perturbed") or []:
        label = f"Γ(4 ms) of the full cell against itself, {perturbation_label(fp)} added"
        extra.append([html.escape(label), _fmt(fp["gamma_4ms"])] + (["—"] if b else []))
    rep = h.get("reproducible")
    if rep:
        label = (f"Γ(4 ms) on the protocols where the full cell keeps Γ(4 ms) ≥ "
                 f"{rep['min_full_cell_gamma_4ms']:g} against itself with "
                 f"{perturbation_label(rep)} added")
        extra.append([html.escape(label), f"{_fmt(rep['gamma_4ms'])} <span class='note'>"
                      f"({rep['n_gamma_4ms']}/{h['n_protocols']})</span>"]
                     + (["—"] if b else []))
    rows[2:2] = extra
    if h["n_model_trace_nonfinite"] or (b and b["n_model_trace_nonfinite"]):
        rows.append(
            row(
                "diverged model traces (NaN/inf; RMSE undefined)",
                lambda s: str(s["n_model_trace_nonfinite"]),
            )
        )
    floor = (
        f"<p class='note'>Floor (soma-only cell, same channels): "
        f"{_fmt(sp['floor_speedup'], 1)}× faster than the full cell.</p>"
    )
    return _table(header, rows) + floor


def _protocol_table(metrics: dict[str, Any]) -> str:
    per = metrics["heldout"]["per_protocol"]
    has_base = any("baseline" in p for p in per)
    header = [
        "protocol",
        "kind",
        "regime",
        "spikes full",
        "spikes reduced",
        "Γ(4 ms)",
        "Γ(2 ms)",
        "RMSE (mV)",
        "sub-thr. RMSE (mV)",
    ]
    sizes = metrics["heldout"].get("full_cell_perturbed") or []
    header += [f"full cell {perturbation_label(e)}: Γ(4 ms)" for e in sizes]
    if has_base:
        header += ["baseline spikes", "baseline Γ(4 ms)", "baseline RMSE (mV)"]
    rows = []
    for p in per:
        r = [
            html.escape(p["name"]),
            html.escape(p["kind"]),
            html.escape(p["regime"]),
            p["n_spikes_ref"],
            p["n_spikes_model"],
            _fmt(p["gamma_4ms"]),
            _fmt(p["gamma_2ms"]),
            _fmt(p["v_rmse_mV"], 2),
            _fmt(p["subthreshold_rmse_mV"], 2),
        ]
        own = _perturbed_by_size(p)
        r += [_fmt(own[e["offset_pA"]]["gamma_4ms"]) if e["offset_pA"] in own else "—"
              for e in sizes]
        if has_base:
            bl = p.get("baseline")
            r += (
                [bl["n_spikes_model"], _fmt(bl["gamma_4ms"]), _fmt(bl["v_rmse_mV"], 2)]
                if bl
                else ["—"] * 3
            )
        rows.append(r)
    h = metrics["heldout"]
    runaway = range_message(h["per_protocol"])
    return (_table(header, rows, left_cols=3)
            + (f"<p><b>Warning:</b> {html.escape(runaway)}</p>" if runaway else "")
            + _unreproducible_note(h) + _undefined_gamma_note(h))


def _undefined_gamma_note(h: dict[str, Any]) -> str:
    """Names the spiking protocols whose Γ(4 ms) is undefined, and why: the means skip them,
    so a model firing too fast would otherwise drop out of the average unnoticed."""
    bad = [p for p in h["per_protocol"]
           if (p["n_spikes_ref"] or p["n_spikes_model"])
           and (p["gamma_4ms"] is None or not math.isfinite(p["gamma_4ms"]))]
    if not bad:
        return ""
    names = ", ".join(f"{p['name']} (reduced cell at {_fmt(p['rate_model_hz'], 0)} Hz)"
                      for p in bad)
    return (f"<p class='note'>Γ(4 ms) is undefined on {html.escape(names)}: at a rate ν with "
            "2νΔ ≥ 1 (125 Hz for Δ = 4 ms) its chance correction leaves nothing to compare. "
            "The Γ means leave a protocol out where Γ is undefined; its spike count and RMSEs "
            "still count.</p>")


def _unreproducible_note(h: dict[str, Any]) -> str:
    """Names the held-out protocols whose Γ the full cell itself loses to a few pA."""
    rep = h.get("reproducible")
    if not rep:
        return ""
    size = rep["offset_pA"]
    bad = []
    for p in h["per_protocol"]:
        e = _perturbed_by_size(p).get(size)
        if e is None or p["name"] in rep["protocols"]:
            continue
        if p["n_spikes_ref"] or any(e["n_spikes"]):  # protocols without spikes have no Γ
            bad.append(f"{p['name']} ({_fmt(e['gamma_4ms'])})")
    if not bad:
        return ""
    return (f"<p class='note'>The full cell against itself with {perturbation_label(rep)} added "
            f"scores Γ(4 ms) below {rep['min_full_cell_gamma_4ms']:g} on "
            f"{html.escape(', '.join(bad))}: there Γ measures phase drift or threshold "
            "crossings that a current this small decides, not only the reduction.</p>")


def _speed_table(metrics: dict[str, Any]) -> str:
    sp = metrics["speed"]
    rows = [
        ["full cell", _fmt(sp["full_s"], 4), "1.0×"],
        ["reduced cell", _fmt(sp["reduced_s"], 4), _fmt(sp["speedup"], 1) + "×"],
        ["soma only (floor)", _fmt(sp["soma_only_s"], 4), _fmt(sp["floor_speedup"], 1) + "×"],
    ]
    if sp["baseline_s"] is not None:
        rows.append(
            ["linear baseline", _fmt(sp["baseline_s"], 4), _fmt(sp["baseline_speedup"], 1) + "×"]
        )
    if sp["jax_s"] is not None:
        rows.append(["reduced model in JAX", _fmt(sp["jax_s"], 4), "—"])
    note = (
        f"<p class='note'>NEURON wall time for {_fmt(sp['simulated_ms'], 0)} ms simulated, "
        f"median of {sp['repeats']} runs in the same process, fixed dt. "
        "JAX time is after compilation and not a NEURON speed-up.</p>"
    )
    return _table(["simulation", "wall time (s)", "speed-up vs full"], rows) + note


def _jax_table(metrics: dict[str, Any]) -> str:
    rows = []
    for p in metrics["heldout"]["per_protocol"]:
        j = p.get("jax_vs_neuron")
        if j:
            rows.append(
                [
                    html.escape(p["name"]),
                    _fmt(j["max_spike_shift_ms"], 4),
                    _fmt(j["max_abs_dv_mV"], 3),
                    _fmt(j["v_rmse_mV"], 3),
                    f"{j['n_spikes_model']} / {j['n_spikes_ref']}",
                ]
            )
    if not rows:
        return ""
    return (
        "<h2>JAX model against the exported NEURON mechanism</h2>"
        "<p class='note'>The same model in both simulators; spike times should agree within "
        "0.1 ms until chaos sets in.</p>"
        + _table(
            [
                "protocol",
                "max spike shift (ms)",
                "max |ΔV| (mV)",
                "RMSE (mV)",
                "spikes JAX / NEURON",
            ],
            rows,
        )
    )


def stuck_message(check: dict[str, Any]) -> str:
    """What a stuck reduced cell in the synaptic check means, and what to do."""
    n, total = check["n_stuck"], len(check["conditions"])
    return (f"under strong synaptic input the reduced cell stays above -40 mV for over "
            f"{STUCK_MS:g} ms "
            f"where the full cell keeps firing ({n} of {total} conditions): it locks into "
            "depolarisation block. A run made with --no-holds should be made again with "
            "--holds on (or auto); otherwise try --protocols default+synaptic or another "
            "--seed (README).")


def holds_message(holds: dict[str, Any]) -> str:
    """One sentence on the held-depolarised training steps: used or not, and why."""
    if holds["option"] != "auto":
        return (f"Held-depolarised training steps and the DC I-V above {DC_KEEP_BELOW_MV:g} mV: "
                f"{holds['option']} (--holds).")
    if not holds["used"]:
        return ("--holds auto: the model trained without the held-depolarised steps did not "
                "lock in the synaptic check, so it is the exported model (the check below is "
                "its own).")
    return ("--holds auto: the model trained without the held-depolarised steps was set aside "
            f"in {holds['no_holds_export']}, because {set_aside_reason(holds['no_holds_check'])}"
            "; the exported model was trained again with them.")


def set_aside_reason(check: dict[str, Any]) -> str:
    """Why ``--holds auto`` set its first model aside, from that model's synaptic check."""
    if check.get("skipped"):
        return f"the check could not run ({check['skipped']})"
    return f"it locked in {check['n_stuck']} of {len(check['conditions'])} conditions"


def _check_table(sc: dict[str, Any]) -> str:
    rows = [[_fmt(c["drive"], 2), c["seed"], _fmt(c["gamma_4ms"]),
             f"{c['n_spikes_full']} / {c['n_spikes_reduced']}",
             f"{c['longest_depolarised_ms_full']:.1f} / {c['longest_depolarised_ms_reduced']:.1f}",
             "yes" if c["stuck"] else "no"] for c in sc["conditions"]]
    return _table(["drive (× rheobase)", "seed", "Γ(4 ms)", "spikes full / reduced",
                   "longest above −40 mV, full / reduced (ms)", "stuck"], rows, left_cols=0)


def _synaptic_html(metrics: dict[str, Any]) -> str:
    sc = metrics.get("synaptic_check")
    holds = metrics.get("holds")
    parts = ["<h2>Synaptic input (depolarisation-block check)</h2>"]
    if holds:
        parts.append(f"<p>{html.escape(holds_message(holds))}</p>")
        set_aside = holds.get("no_holds_check") if holds["used"] else None
        if set_aside and not set_aside.get("skipped"):
            parts.append("<p class='note'>The set-aside model (without the held steps):</p>"
                         + _check_table(set_aside))
    if not sc:
        return "".join(parts) if holds else ""
    if sc.get("skipped"):
        parts.append(f"<p class='note'>Not run: {html.escape(sc['skipped'])}</p>")
        return "".join(parts)
    d = sc["drive"]
    parts += [
        "<p class='note'>Both cells in NEURON under the same somatic Poisson excitation "
        f"({d['exc_rate_hz']:g} Hz, ExpSyn tau {d['tau_exc_ms']:g} ms) and inhibition "
        f"({d['inh_rate_hz']:g} Hz, tau {d['tau_inh_ms']:g} ms) for {d['dur_ms']:g} ms; drive "
        "= mean synaptic current at rest in rheobases. Stuck: the reduced cell stays above "
        f"−40 mV for over {STUCK_MS:g} ms where the full cell does not. More conditions: "
        "benchmarks/synaptic_input.py.</p>",
        _check_table(sc),
    ]
    if sc["n_stuck"]:
        parts.append(f"<p><b>Warning:</b> {html.escape(stuck_message(sc))}</p>")
    return "".join(parts)


def _training_html(metrics: dict[str, Any], figures: dict[str, bytes]) -> str:
    tr = metrics["training"]
    if tr is None:
        return ""
    rows = [
        [
            html.escape(name),
            s["n_steps"],
            _fmt(s["final_loss"], 5),
            _fmt(s["min_loss"], 5),
            _fmt(s["wall_time_s"], 1),
        ]
        for name, s in tr["stages"].items()
    ]
    parts = [
        "<h2>Training</h2>",
        _table(["stage", "steps", "final loss", "min loss", "wall time (s)"], rows),
    ]
    if tr["chosen_checkpoint"]:
        parts.append(f"<p>Exported checkpoint: {html.escape(str(tr['chosen_checkpoint']))}</p>")
    if "training" in figures:
        parts.append(_img(figures["training"], "training loss per stage"))
    return "".join(parts)


def _render_html(data: ReportData, metrics: dict[str, Any], figures: dict[str, bytes]) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>reduce-cell report: {esc(data.cell_name)}</title><style>{_CSS}</style></head>",
        f"<body><h1>reduce-cell report: {esc(data.cell_name)}</h1>",
        "<p class='note'>Full cell and exported reduced cell, both simulated in NEURON on "
        "held-out protocols never used in training. Spikes: upward crossings of −20 mV. "
        "Γ: coincidence factor (Kistler 1997; Jolivet 2008), 1 = every spike within ±Δ, "
        "0 = chance; undefined where neither trace spikes (left out of the mean, counted). "
        "Subthreshold RMSE cuts ±5 ms around every spike of either trace.</p>",
        "<h2>Summary</h2>",
        _summary_table(metrics),
        "<h2>Held-out protocols</h2>",
        _protocol_table(metrics),
        "<h2>Speed (NEURON)</h2>",
        _speed_table(metrics),
        _synaptic_html(metrics),
        _jax_table(metrics),
        "<h2>Traces</h2>",
    ]
    for i, p in enumerate(data.heldout):
        parts.append(f"<h3>{esc(p.name)}</h3>")
        parts.append(_img(figures[f"protocol_{i:02d}"], f"traces of {p.name}"))
    if "learned_curves" in figures:
        parts += [
            "<h2>Learned gates</h2>",
            _img(figures["learned_curves"], "learned z_inf(V) and tau(V)"),
        ]
    if "fi_curve" in figures:
        fi = metrics["fi_curve"]
        rows = [
            [_fmt(a, 3), _fmt(f, 1), _fmt(r, 1)]
            + ([_fmt(b, 1)] if fi["rate_baseline_hz"] is not None else [])
            for a, f, r, b in zip(
                fi["amplitudes_nA"],
                fi["rate_full_hz"],
                fi["rate_reduced_hz"],
                fi["rate_baseline_hz"] or [None] * len(fi["amplitudes_nA"]),
                strict=True,
            )
        ]
        header = ["step (nA)", "full (Hz)", "reduced (Hz)"] + (
            ["baseline (Hz)"] if fi["rate_baseline_hz"] is not None else []
        )
        parts += [
            "<h2>f–I curve</h2>",
            _img(figures["fi_curve"], "f-I curve"),
            _table(header, rows, left_cols=0),
        ]
    parts.append(_training_html(metrics, figures))
    if data.notes:
        parts.append(
            "<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in data.notes) + "</ul>"
        )
    prov = metrics["provenance"]
    prov_rows = [
        [esc(k), esc(json.dumps(v) if isinstance(v, dict) else str(v))] for k, v in prov.items()
    ]
    parts += [
        "<h2>Provenance</h2>",
        _table(["field", "value"], prov_rows, left_cols=2),
        "</body></html>",
    ]
    return "\n".join(parts)
