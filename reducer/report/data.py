"""What a report is made of: traces, timings and provenance as dataclasses (the
caller fills :class:`ReportData`)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reducer import __version__

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


# Protocol kinds judged by spike timing (Γ) in the headline; steps, ramps and multisteps are
# judged by rate, latency, ISI statistics and subthreshold voltage.
FLUCTUATING_KINDS = ("ou_noise", "chirp", "synaptic")


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
        input_class: "fluctuating" (judged by Γ) or "step" (judged by rate, latency, ISI
            statistics, subthreshold RMSE and rest); default from ``kind``
            (:data:`FLUCTUATING_KINDS`).
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
    input_class: str = ""

    def __post_init__(self) -> None:
        who = f"held-out protocol {self.name!r}"
        if not self.input_class:
            self.input_class = ("fluctuating" if self.kind in FLUCTUATING_KINDS else "step")
        if self.input_class not in ("fluctuating", "step"):
            raise ValueError(f"{who}: input_class must be 'fluctuating' or 'step', got "
                             f"{self.input_class!r}")
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
        latency_full_ms, latency_reduced_ms: optional first-spike latencies from the step
            onset (ms; NaN without a spike).
        own_rate_rel_change, own_latency_shift_ms: optional, the full cell's own tolerance
            per step: how far its rate (relative) and first-spike latency move with about
            1 % of the rheobase added or subtracted (NaN where it does not fire).
    """

    amplitudes_nA: np.ndarray
    rate_full_hz: np.ndarray
    rate_reduced_hz: np.ndarray
    rate_baseline_hz: np.ndarray | None = None
    latency_full_ms: np.ndarray | None = None
    latency_reduced_ms: np.ndarray | None = None
    own_rate_rel_change: np.ndarray | None = None
    own_latency_shift_ms: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.amplitudes_nA = _vec("fi_curve", "amplitudes_nA", self.amplitudes_nA)
        n = self.amplitudes_nA.size
        self.rate_full_hz = _vec("fi_curve", "rate_full_hz", self.rate_full_hz, n)
        self.rate_reduced_hz = _vec("fi_curve", "rate_reduced_hz", self.rate_reduced_hz, n)
        self.rate_baseline_hz = _opt_vec("fi_curve", "rate_baseline_hz", self.rate_baseline_hz, n)
        self.latency_full_ms = _opt_vec("fi_curve", "latency_full_ms", self.latency_full_ms, n)
        self.latency_reduced_ms = _opt_vec("fi_curve", "latency_reduced_ms",
                                           self.latency_reduced_ms, n)
        self.own_rate_rel_change = _opt_vec("fi_curve", "own_rate_rel_change",
                                            self.own_rate_rel_change, n)
        self.own_latency_shift_ms = _opt_vec("fi_curve", "own_latency_shift_ms",
                                             self.own_latency_shift_ms, n)


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
        timestep_check: optional fixed-step vs ODE comparison (:mod:`reducer.validate.timestep`).
        synaptic_check: optional depolarisation-block check under synaptic input
            (:func:`reducer.validate.synaptic.synaptic_check`).
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
