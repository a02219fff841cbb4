"""Accuracy metrics comparing a model's somatic voltage with the reference (full) cell's.

Pure numpy: no NEURON, no JAX. Times in ms, voltages in mV, rates in Hz.

Definitions (DESIGN.md "Metrics"):

- **Spikes** are upward crossings of ``threshold_mV`` (-20 mV); the crossing time is linearly
  interpolated between the two samples that bracket it.
- **Coincidence factor** Γ (Kistler et al. 1997, J. Neural Comput. 9:1015; Jolivet et al. 2008,
  J. Neurosci. Methods 169:417)::

      Γ = (N_coinc − ⟨N_coinc⟩) / (½ (N_ref + N_model)) · 1 / 𝒩
      ⟨N_coinc⟩ = 2 ν Δ N_ref,   𝒩 = 1 − 2 ν Δ,   ν = N_model / duration

  ``N_coinc`` counts reference spikes that have a model spike within ±Δ, each spike of either
  train used in at most one pair (a maximum one-to-one matching). Γ = 1 for identical trains,
  ≈ 0 for a model that is only as good as a Poisson train of the same rate.

  Edge cases (chosen so that averages are never flattered):

  * both trains empty → ``nan`` ("undefined"): nothing to time; :func:`summarise` leaves it out
    of the mean Γ and reports how many protocols had a defined Γ. Spike-count error and the
    subthreshold RMSE still score such a protocol.
  * reference spikes but no model spikes, or model spikes but no reference spikes → 0.0
    (this is what the formula gives; no special case is needed).
  * 𝒩 ≤ 0, i.e. the model fires at ν ≥ 1/(2Δ) (≥ 125 Hz for Δ = 4 ms) so that chance alone
    explains every coincidence → ``nan``; again visible as a lower defined-Γ count and as a
    spike-count error.
- **Voltage RMSE** over the whole trace; **subthreshold RMSE** with ±``window_ms`` (5 ms)
  around every spike of *either* trace removed.
- **Spike-count error** per protocol: ``n_model − n_ref`` (signed); summaries average its
  absolute value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SPIKE_THRESHOLD_mV = -20.0
GAMMA_DELTAS_ms = (4.0, 2.0)
SUBTHRESHOLD_WINDOW_ms = 5.0

# Per-protocol keys that summarise() averages skipping NaN (Γ undefined, no subthreshold
# samples left). v_rmse_mV is not among them: it is NaN only for a non-finite (diverged) trace,
# and leaving that protocol out would flatter the mean.
_NANMEAN_KEYS = (
    "gamma_4ms",
    "gamma_2ms",
    "subthreshold_rmse_mV",
    "rate_ref_hz",
    "rate_model_hz",
)


def _as_1d(name: str, x: Any) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def spike_times(t_ms: Any, v_mV: Any, threshold_mV: float = SPIKE_THRESHOLD_mV) -> np.ndarray:
    """Times of upward threshold crossings, linearly interpolated between samples.

    A crossing is a pair of consecutive samples with ``v[i] < threshold <= v[i+1]``; a trace
    that starts above threshold does not count as a spike at t[0].

    Args:
        t_ms: sample times (ms), increasing.
        v_mV: voltage (mV), same length as ``t_ms``.
        threshold_mV: crossing level (mV).

    Returns:
        Crossing times (ms), sorted, float64.
    """
    t = _as_1d("t_ms", t_ms)
    v = _as_1d("v_mV", v_mV)
    if t.shape != v.shape:
        raise ValueError(f"t_ms and v_mV differ in length: {t.size} vs {v.size}")
    idx = np.flatnonzero((v[:-1] < threshold_mV) & (v[1:] >= threshold_mV))
    v0, v1 = v[idx], v[idx + 1]
    frac = (threshold_mV - v0) / (v1 - v0)  # v1 > v0 by construction, never divides by 0
    return t[idx] + frac * (t[idx + 1] - t[idx])


def spike_shift_ms(ref_spikes_ms: Any, model_spikes_ms: Any, delta_ms: float) -> float:
    """Largest |t_model − t_ref| between each reference spike and its nearest model spike,
    over the pairs closer than ``delta_ms``; NaN if there is no such pair."""
    ref = np.asarray(ref_spikes_ms, dtype=np.float64)
    model = np.asarray(model_spikes_ms, dtype=np.float64)
    if ref.size == 0 or model.size == 0:
        return float("nan")
    nearest = np.abs(model[None, :] - ref[:, None]).min(axis=1)
    close = nearest[nearest <= delta_ms]
    return float(close.max()) if close.size else float("nan")


def count_coincidences(ref_spikes_ms: Any, model_spikes_ms: Any, delta_ms: float) -> int:
    """Size of a maximum one-to-one matching of spikes closer than ``delta_ms``.

    Greedy in time order: each reference spike takes the earliest still-unused model spike in
    ``[r − Δ, r + Δ]``. For points on a line with a symmetric window this greedy choice is a
    maximum matching (an unused model spike earlier than ``r − Δ`` can never match a later
    reference spike, and the earliest candidate leaves the later ones to later spikes).

    Args:
        ref_spikes_ms: reference spike times (ms).
        model_spikes_ms: model spike times (ms).
        delta_ms: coincidence half-window Δ (ms), > 0.

    Returns:
        Number of coincident pairs.
    """
    if not delta_ms > 0:
        raise ValueError(f"delta_ms must be > 0, got {delta_ms}")
    ref = np.sort(_as_1d("ref_spikes_ms", ref_spikes_ms))
    mod = np.sort(_as_1d("model_spikes_ms", model_spikes_ms))
    n_coinc = 0
    j = 0
    for r in ref:
        while j < mod.size and mod[j] < r - delta_ms:
            j += 1  # too early for this and every later reference spike
        if j < mod.size and mod[j] <= r + delta_ms:
            n_coinc += 1
            j += 1
    return n_coinc


def coincidence_factor(
    ref_spikes_ms: Any, model_spikes_ms: Any, delta_ms: float, duration_ms: float
) -> float:
    """Coincidence factor Γ of a model spike train against a reference train.

    Args:
        ref_spikes_ms: reference (full-cell) spike times (ms).
        model_spikes_ms: model spike times (ms).
        delta_ms: coincidence half-window Δ (ms).
        duration_ms: length of the recording both trains come from (ms); sets the model's
            rate ν = N_model / duration.

    Returns:
        Γ (1 = perfect, ≈0 = chance, may be negative); ``nan`` when both trains are empty or
        when 2νΔ ≥ 1 (see the module docstring).
    """
    if not duration_ms > 0:
        raise ValueError(f"duration_ms must be > 0, got {duration_ms}")
    ref = _as_1d("ref_spikes_ms", ref_spikes_ms)
    mod = _as_1d("model_spikes_ms", model_spikes_ms)
    n_ref, n_mod = ref.size, mod.size
    if n_ref == 0 and n_mod == 0:
        return float("nan")
    rate_per_ms = n_mod / duration_ms
    norm = 1.0 - 2.0 * rate_per_ms * delta_ms
    if norm <= 0.0:
        return float("nan")
    n_coinc = count_coincidences(ref, mod, delta_ms)
    expected = 2.0 * rate_per_ms * delta_ms * n_ref
    return float((n_coinc - expected) / (0.5 * (n_ref + n_mod)) / norm)


def v_rmse(v_ref: Any, v_model: Any) -> float:
    """Root-mean-square voltage difference (mV) over the whole trace."""
    a = _as_1d("v_ref", v_ref)
    b = _as_1d("v_model", v_model)
    if a.shape != b.shape:
        raise ValueError(f"v_ref and v_model differ in length: {a.size} vs {b.size}")
    if a.size == 0:
        return float("nan")
    return float(np.sqrt(np.mean((a - b) ** 2)))


def subthreshold_mask(
    t_ms: Any, spikes_ms: Sequence[Any], window_ms: float = SUBTHRESHOLD_WINDOW_ms
) -> np.ndarray:
    """Boolean mask of samples farther than ``window_ms`` from every spike in ``spikes_ms``.

    Args:
        t_ms: sample times (ms).
        spikes_ms: one or more spike-time arrays (e.g. reference and model); all are cut.
        window_ms: half-width of the cut around each spike (ms).

    Returns:
        Mask, True where the sample is kept.
    """
    t = _as_1d("t_ms", t_ms)
    keep = np.ones(t.shape, dtype=bool)
    for train in spikes_ms:
        for s in _as_1d("spikes_ms", train):
            # Closed interval: a sample exactly window_ms away is still cut.
            keep &= np.abs(t - s) > window_ms
    return keep


def subthreshold_rmse(
    t_ms: Any,
    v_ref: Any,
    v_model: Any,
    spikes_ref: Any,
    spikes_model: Any,
    window_ms: float = SUBTHRESHOLD_WINDOW_ms,
) -> float:
    """Voltage RMSE (mV) with ±``window_ms`` around every spike of either trace cut out.

    Returns:
        The RMSE over the remaining samples, or ``nan`` if nothing remains.
    """
    a = _as_1d("v_ref", v_ref)
    b = _as_1d("v_model", v_model)
    t = _as_1d("t_ms", t_ms)
    if not (a.shape == b.shape == t.shape):
        raise ValueError(f"t_ms, v_ref, v_model differ in length: {t.size}, {a.size}, {b.size}")
    keep = subthreshold_mask(t, [spikes_ref, spikes_model], window_ms)
    if not keep.any():
        return float("nan")
    return float(np.sqrt(np.mean((a[keep] - b[keep]) ** 2)))


def spike_count_error(spikes_ref: Any, spikes_model: Any) -> int:
    """Signed spike-count error ``n_model − n_ref``."""
    return int(_as_1d("spikes_model", spikes_model).size - _as_1d("spikes_ref", spikes_ref).size)


def firing_rate_hz(spikes_ms: Any, t_start_ms: float, t_end_ms: float) -> float:
    """Mean firing rate (Hz) of the spikes in ``[t_start_ms, t_end_ms)``."""
    if not t_end_ms > t_start_ms:
        raise ValueError(f"need t_end_ms > t_start_ms, got [{t_start_ms}, {t_end_ms})")
    s = _as_1d("spikes_ms", spikes_ms)
    n = np.count_nonzero((s >= t_start_ms) & (s < t_end_ms))
    return float(n / ((t_end_ms - t_start_ms) * 1e-3))


def first_spike_latency_ms(spikes_ms: Any, onset_ms: float) -> float:
    """Time (ms) from ``onset_ms`` to the first spike at or after it; NaN without one."""
    s = _as_1d("spikes_ms", spikes_ms)
    after = s[s >= onset_ms]
    return float(after[0] - onset_ms) if after.size else float("nan")


def isi_cv(spikes_ms: Any) -> float:
    """Coefficient of variation of the interspike intervals (SD / mean); NaN with fewer than
    three spikes (two intervals)."""
    isi = np.diff(_as_1d("spikes_ms", spikes_ms))
    return float(isi.std() / isi.mean()) if isi.size >= 2 and isi.mean() > 0 else float("nan")


def adaptation_index(spikes_ms: Any) -> float:
    """Mean of (ISI_{k+1} − ISI_k) / (ISI_{k+1} + ISI_k) over consecutive intervals (the
    Allen Cell Types / eFEL ``adaptation_index2`` definition): 0 for regular firing, > 0 for
    intervals that lengthen; NaN with fewer than three intervals."""
    isi = np.diff(_as_1d("spikes_ms", spikes_ms))
    if isi.size < 3:
        return float("nan")
    return float(np.mean(np.diff(isi) / (isi[1:] + isi[:-1])))


def step_features(t_ms: Any, v_mV: Any, window_ms: tuple[float, float],
                  rest_window_ms: float = 20.0,
                  threshold_mV: float = SPIKE_THRESHOLD_mV) -> dict[str, float | int]:
    """What a current step is judged by: ``rest_mV`` (mean voltage over the
    ``rest_window_ms`` before the step), ``rate_hz``, ``n_spikes``, ``latency_ms`` (to the
    first spike), ``isi_cv`` and ``adaptation_index`` of the spikes inside ``window_ms`` =
    (onset, end)."""
    t = _as_1d("t_ms", t_ms)
    v = _as_1d("v_mV", v_mV)
    t0, t1 = map(float, window_ms)
    s = spike_times(t, v, threshold_mV)
    s = s[(s >= t0) & (s <= t1)]
    pre = (t >= t0 - rest_window_ms) & (t < t0)
    return {"rest_mV": float(np.mean(v[pre])) if pre.any() else float("nan"),
            "n_spikes": int(s.size), "rate_hz": float(s.size / ((t1 - t0) * 1e-3)),
            "latency_ms": first_spike_latency_ms(s, t0), "isi_cv": isi_cv(s),
            "adaptation_index": adaptation_index(s)}


def longest_depolarised_ms(
    t_ms: Any, v_mV: Any, above_mV: float = -40.0,
    window_ms: tuple[float, float] | None = None,
) -> float:
    """Longest stretch (ms) the voltage stays above ``above_mV`` without coming back down.

    A spike spends about a millisecond above -40 mV; a cell stuck in depolarisation block
    (V hovering near -20 mV, Na channels inactivated) spends hundreds. Counted in samples:
    (number of consecutive samples above) x the sampling step, within ``window_ms`` if given.
    """
    t = _as_1d("t_ms", t_ms)
    v = _as_1d("v_mV", v_mV)
    if t.size != v.size:
        raise ValueError(f"t_ms has {t.size} samples but v_mV has {v.size}")
    if window_ms is not None:
        keep = (t >= window_ms[0]) & (t < window_ms[1])
        t, v = t[keep], v[keep]
    if t.size < 2:
        return 0.0
    above = np.concatenate([[False], v > above_mV, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    runs = edges[1::2] - edges[0::2]
    return float(runs.max() * (t[1] - t[0])) if runs.size else 0.0


def fi_curve(
    amplitudes_nA: Sequence[float],
    spike_lists_ms: Sequence[Any],
    t_start_ms: float,
    t_end_ms: float,
) -> tuple[np.ndarray, np.ndarray]:
    """f–I curve: firing rate during the step for each step amplitude.

    Args:
        amplitudes_nA: step amplitudes (nA), one per spike list.
        spike_lists_ms: spike times (ms) of each step run.
        t_start_ms: step onset (ms).
        t_end_ms: step offset (ms).

    Returns:
        ``(amplitudes_nA, rates_hz)`` sorted by amplitude.
    """
    amps = _as_1d("amplitudes_nA", amplitudes_nA)
    if amps.size != len(spike_lists_ms):
        raise ValueError(f"{amps.size} amplitudes but {len(spike_lists_ms)} spike lists")
    rates = np.array([firing_rate_hz(s, t_start_ms, t_end_ms) for s in spike_lists_ms])
    order = np.argsort(amps, kind="stable")
    return amps[order], rates[order]


def compare_traces(
    t_ms: Any,
    v_ref: Any,
    v_model: Any,
    stim_window: tuple[float, float] | None = None,
    threshold_mV: float = SPIKE_THRESHOLD_mV,
) -> dict[str, float | int]:
    """All per-protocol metrics of a model trace against the reference trace.

    Voltage RMSEs use the whole trace. The spike metrics (counts, rates, Γ, count error) use
    the spikes inside ``stim_window`` = ``(t_start_ms, t_end_ms)`` and its length as the
    duration; without a window, the whole trace ``[t[0], t[-1]]``.

    Args:
        t_ms: sample times (ms).
        v_ref: reference (full-cell) voltage (mV).
        v_model: model voltage (mV).
        stim_window: optional analysis window for the spike metrics (ms).
        threshold_mV: spike threshold (mV).

    Returns:
        ``gamma_4ms``, ``gamma_2ms`` (may be NaN), ``v_rmse_mV``, ``subthreshold_rmse_mV``,
        ``n_spikes_ref``, ``n_spikes_model``, ``spike_count_error`` (signed),
        ``rate_ref_hz``, ``rate_model_hz``, ``model_trace_finite`` (False if the model
        trace holds NaN/inf, e.g. a diverged simulation; its RMSE is then NaN).
    """
    t = _as_1d("t_ms", t_ms)
    if t.size < 2:
        raise ValueError("need at least two samples")
    s_ref = spike_times(t, v_ref, threshold_mV)
    s_mod = spike_times(t, v_model, threshold_mV)
    window = (float(t[0]), float(t[-1])) if stim_window is None else stim_window
    spikes = compare_spike_trains(s_ref, s_mod, window)
    out: dict[str, float | int] = {k: spikes[k] for k in spikes if k.startswith("gamma_")}
    out["v_rmse_mV"] = v_rmse(v_ref, v_model)
    out["subthreshold_rmse_mV"] = subthreshold_rmse(t, v_ref, v_model, s_ref, s_mod)
    out.update({k: v for k, v in spikes.items() if not k.startswith("gamma_")})
    out["model_trace_finite"] = bool(np.isfinite(np.asarray(v_model, dtype=float)).all())
    return out


def compare_spike_trains(
    ref_spikes_ms: Any, model_spikes_ms: Any, window: tuple[float, float]
) -> dict[str, float | int]:
    """The spike metrics of :func:`compare_traces`, from two spike trains.

    Only the spikes inside ``window = (t_start_ms, t_end_ms)`` count, and its length is the
    duration (rates, Γ's chance correction).

    Returns:
        ``gamma_4ms``, ``gamma_2ms`` (may be NaN), ``n_spikes_ref``, ``n_spikes_model``,
        ``spike_count_error`` (signed), ``rate_ref_hz``, ``rate_model_hz``.
    """
    t0, t1 = map(float, window)
    if not t1 > t0:
        raise ValueError(f"empty stim_window {window}")
    s_ref = _as_1d("ref_spikes_ms", ref_spikes_ms)
    s_mod = _as_1d("model_spikes_ms", model_spikes_ms)
    # Closed at the end so that a spike on the last sample of the trace is not lost.
    w_ref = s_ref[(s_ref >= t0) & (s_ref <= t1)]
    w_mod = s_mod[(s_mod >= t0) & (s_mod <= t1)]
    duration = t1 - t0
    out: dict[str, float | int] = {}
    for delta in GAMMA_DELTAS_ms:
        out[f"gamma_{delta:g}ms"] = coincidence_factor(w_ref, w_mod, delta, duration)
    out["n_spikes_ref"] = int(w_ref.size)
    out["n_spikes_model"] = int(w_mod.size)
    out["spike_count_error"] = spike_count_error(w_ref, w_mod)
    out["rate_ref_hz"] = float(w_ref.size / (duration * 1e-3))
    out["rate_model_hz"] = float(w_mod.size / (duration * 1e-3))
    return out


def nanmean_over(rows: Sequence[dict[str, Any]], key: str) -> tuple[float, int]:
    """Mean of ``row[key]`` over the rows where it is finite, and how many those are.

    The mean is NaN when no row has a finite value (e.g. Γ undefined everywhere).
    """
    vals = np.array([float(r[key]) for r in rows], dtype=float)
    vals = vals[np.isfinite(vals)]
    return (float(vals.mean()) if vals.size else float("nan")), int(vals.size)


def summarise(per_protocol: Sequence[dict[str, Any]]) -> dict[str, float | int]:
    """Average per-protocol metrics from :func:`compare_traces` over protocols.

    Means of Γ, subthreshold RMSE and rates skip NaN entries (undefined Γ, a trace without
    subthreshold samples left); ``n_<key>`` says how many protocols each mean is over, so a
    mean Γ over 2 of 5 protocols is visible as such. The voltage RMSE mean does not skip: a
    diverged (non-finite) model trace makes it NaN, and ``n_model_trace_nonfinite`` counts them.

    Returns:
        ``n_protocols``; for each of gamma_4ms, gamma_2ms, subthreshold_rmse_mV, rate_ref_hz,
        rate_model_hz: the mean (NaN if no defined value) and ``n_<key>``; ``v_rmse_mV``;
        ``n_model_trace_nonfinite``;
        ``spike_count_error`` = mean |n_model − n_ref|, ``spike_count_error_signed`` = mean
        signed error, ``n_spikes_ref`` / ``n_spikes_model`` = totals,
        ``spike_count_rel_error`` = Σ|error| / Σ n_ref (NaN without reference spikes).
    """
    out: dict[str, float | int] = {"n_protocols": len(per_protocol)}
    for key in _NANMEAN_KEYS:
        out[key], out[f"n_{key}"] = nanmean_over(per_protocol, key)
    rmse = np.array([float(p["v_rmse_mV"]) for p in per_protocol], dtype=float)
    out["v_rmse_mV"] = float(rmse.mean()) if rmse.size else float("nan")
    out["n_model_trace_nonfinite"] = sum(
        not p.get("model_trace_finite", True) for p in per_protocol
    )
    errs = np.array([p["spike_count_error"] for p in per_protocol], dtype=float)
    n_ref = int(sum(int(p["n_spikes_ref"]) for p in per_protocol))
    out["spike_count_error"] = float(np.abs(errs).mean()) if errs.size else float("nan")
    out["spike_count_error_signed"] = float(errs.mean()) if errs.size else float("nan")
    out["n_spikes_ref"] = n_ref
    out["n_spikes_model"] = int(sum(int(p["n_spikes_model"]) for p in per_protocol))
    out["spike_count_rel_error"] = float(np.abs(errs).sum() / n_ref) if n_ref else float("nan")
    return out
