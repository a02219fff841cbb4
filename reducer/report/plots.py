"""Figures for report.html, rendered to PNG bytes with matplotlib's Agg renderer.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot): PNGs go through
the Agg renderer whatever the session's backend, nothing needs a display, and no figure outlives
its call. Every function returns PNG bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

DPI = 100
ZOOM_WIDTH_ms = 100.0
# Colours: full cell black, reduced (NEURON) red, JAX twin blue dashed, baseline faint grey.
C_FULL, C_REDUCED, C_JAX, C_BASELINE = "black", "tab:red", "tab:blue", "0.55"


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # Long traces (10^5-10^6 points) can overflow Agg's path buffer unless paths are chunked.
    with matplotlib.rc_context({"agg.path.chunksize": 20000}):
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def zoom_window(
    t_ms: np.ndarray,
    spikes_ref_ms: np.ndarray,
    spikes_model_ms: np.ndarray,
    i_stim_nA: np.ndarray,
    width_ms: float = ZOOM_WIDTH_ms,
) -> tuple[float, float]:
    """A ``width_ms`` window where something happens, to show spikes at a readable scale.

    Starts 20 ms before the first reference spike (else the first model spike, else the first
    change of the stimulus), clipped to the trace.
    """
    t0, t1 = float(t_ms[0]), float(t_ms[-1])
    if t1 - t0 <= width_ms:
        return t0, t1
    if len(spikes_ref_ms):
        anchor = float(spikes_ref_ms[0])
    elif len(spikes_model_ms):
        anchor = float(spikes_model_ms[0])
    else:
        changed = np.flatnonzero(np.abs(i_stim_nA - i_stim_nA[0]) > 1e-12)
        anchor = float(t_ms[changed[0]]) if changed.size else t0 + 20.0
    start = min(max(anchor - 20.0, t0), t1 - width_ms)
    return start, start + width_ms


def protocol_figure(
    title: str,
    t_ms: np.ndarray,
    i_stim_nA: np.ndarray,
    v_full_mV: np.ndarray,
    v_reduced_mV: np.ndarray,
    spikes: Mapping[str, np.ndarray],
    zoom_ms: tuple[float, float],
    v_jax_mV: np.ndarray | None = None,
    v_baseline_mV: np.ndarray | None = None,
    i_axial_full_nA: np.ndarray | None = None,
    i_axial_reduced_nA: np.ndarray | None = None,
) -> bytes:
    """Voltage overlay (whole trace and a zoom), spike raster, stimulus, axial current.

    Args:
        title: figure title (protocol name and regime).
        t_ms: sample times (ms).
        i_stim_nA: injected current (nA).
        v_full_mV: full-cell soma voltage (mV).
        v_reduced_mV: reduced cell in NEURON (mV).
        spikes: spike times (ms) per trace label, drawn as a raster (e.g. "full", "reduced").
        zoom_ms: (start, end) of the zoom panel (ms).
        v_jax_mV: optional JAX simulation of the reduced model (mV).
        v_baseline_mV: optional linear filter-bank baseline in NEURON (mV).
        i_axial_full_nA: optional axial current of the full cell (nA).
        i_axial_reduced_nA: optional learned axial current in the reduced cell (nA).
    """
    has_axial = i_axial_full_nA is not None or i_axial_reduced_nA is not None
    ratios = [3.0, 3.0, 0.9, 1.0] + ([1.6] if has_axial else [])
    fig = Figure(figsize=(11, 2.0 * sum(ratios) / 2.2 + 1.0), layout="constrained")
    axes = fig.subplots(len(ratios), 1, gridspec_kw={"height_ratios": ratios})
    ax_v, ax_zoom, ax_raster, ax_i = axes[:4]
    fig.suptitle(title, fontsize=11)

    z0, z1 = zoom_ms
    zoom = (t_ms >= z0) & (t_ms <= z1)
    for ax, sel in ((ax_v, slice(None)), (ax_zoom, zoom)):
        if v_baseline_mV is not None:
            ax.plot(
                t_ms[sel],
                v_baseline_mV[sel],
                color=C_BASELINE,
                lw=0.8,
                alpha=0.7,
                label="linear baseline",
            )
        ax.plot(t_ms[sel], v_full_mV[sel], color=C_FULL, lw=1.0, label="full cell")
        ax.plot(t_ms[sel], v_reduced_mV[sel], color=C_REDUCED, lw=0.9, label="reduced (NEURON)")
        if v_jax_mV is not None:
            ax.plot(t_ms[sel], v_jax_mV[sel], color=C_JAX, lw=0.8, ls="--", label="reduced (JAX)")
        ax.set_ylabel("V soma (mV)")
        ax.grid(alpha=0.3)
    ax_v.axvspan(z0, z1, color="gold", alpha=0.15, lw=0)
    ax_v.set_xlim(t_ms[0], t_ms[-1])
    # Above the axes: inside, it would hide spikes.
    ax_v.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, ncol=4, frameon=False)
    ax_zoom.set_xlim(z0, z1)
    ax_zoom.set_title(f"zoom {z0:.0f}–{z1:.0f} ms", fontsize=9, loc="left")
    ax_zoom.set_xlabel("t (ms)")

    colours = {"full": C_FULL, "reduced": C_REDUCED, "jax": C_JAX, "baseline": C_BASELINE}
    labels = list(spikes)
    for row, label in enumerate(labels):
        ax_raster.vlines(
            spikes[label], row + 0.1, row + 0.9, color=colours.get(label, "tab:green"), lw=1.0
        )
    ax_raster.set_yticks(np.arange(len(labels)) + 0.5, labels, fontsize=8)
    ax_raster.set_ylim(0, max(len(labels), 1))
    ax_raster.invert_yaxis()
    ax_raster.set_xlim(t_ms[0], t_ms[-1])
    ax_raster.set_title("spikes (−20 mV crossings)", fontsize=9, loc="left")

    ax_i.plot(t_ms, i_stim_nA, color="tab:green", lw=0.8)
    ax_i.set_ylabel("I stim (nA)")
    ax_i.set_xlim(t_ms[0], t_ms[-1])
    ax_i.grid(alpha=0.3)
    ax_i.set_xlabel("t (ms)")

    if has_axial:
        ax_a = axes[4]
        if i_axial_full_nA is not None:
            ax_a.plot(t_ms, i_axial_full_nA, color=C_FULL, lw=0.9, label="full cell")
        if i_axial_reduced_nA is not None:
            ax_a.plot(t_ms, i_axial_reduced_nA, color=C_REDUCED, lw=0.8, label="learned")
        ax_a.set_ylabel("I axial (nA)")
        ax_a.set_xlabel("t (ms)")
        ax_a.set_xlim(t_ms[0], t_ms[-1])
        ax_a.legend(loc="upper right", fontsize=8, ncol=2)
        ax_a.grid(alpha=0.3)
    return _png(fig)


def learned_curves_figure(v_mV: np.ndarray, z_inf: np.ndarray, tau_ms: np.ndarray) -> bytes:
    """Steady states z_inf,k(V) and time constants tau_k(V) (log axis) of the learned gates.

    Args:
        v_mV: voltage grid (n,).
        z_inf: steady states, shape (K, n).
        tau_ms: time constants (ms), shape (K, n).
    """
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_z, ax_t = fig.subplots(1, 2)
    k = z_inf.shape[0]
    cmap = matplotlib.colormaps["viridis"]
    for i in range(k):
        c = cmap(i / max(k - 1, 1))
        ax_z.plot(v_mV, z_inf[i], color=c, lw=1.2, label=f"z{i + 1}")
        ax_t.plot(v_mV, tau_ms[i], color=c, lw=1.2, label=f"z{i + 1}")
    ax_z.set_xlabel("V (mV)")
    ax_z.set_ylabel("z_inf (1)")
    ax_z.set_ylim(-0.02, 1.02)
    ax_z.set_title(f"learned steady states ({k} gates)", fontsize=10)
    ax_t.set_xlabel("V (mV)")
    ax_t.set_ylabel("tau (ms)")
    ax_t.set_yscale("log")
    ax_t.set_title("learned time constants", fontsize=10)
    for ax in (ax_z, ax_t):
        ax.grid(alpha=0.3, which="both")
    if k <= 12:
        ax_t.legend(fontsize=7, ncol=2, loc="best")
    return _png(fig)


def fi_figure(
    amplitudes_nA: np.ndarray,
    rate_full_hz: np.ndarray,
    rate_reduced_hz: np.ndarray,
    rate_baseline_hz: np.ndarray | None = None,
) -> bytes:
    """f–I curve: firing rate during the step against step amplitude."""
    fig = Figure(figsize=(6, 4.2), layout="constrained")
    ax = fig.subplots()
    if rate_baseline_hz is not None:
        ax.plot(
            amplitudes_nA, rate_baseline_hz, "s-", color=C_BASELINE, ms=4, label="linear baseline"
        )
    ax.plot(amplitudes_nA, rate_full_hz, "o-", color=C_FULL, ms=5, label="full cell")
    ax.plot(amplitudes_nA, rate_reduced_hz, "^-", color=C_REDUCED, ms=5, label="reduced (NEURON)")
    ax.set_xlabel("step amplitude (nA)")
    ax.set_ylabel("firing rate (Hz)")
    ax.set_title("f–I curve", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def training_figure(loss_history: Mapping[str, Sequence[float]], ylabel: str = "loss") -> bytes:
    """Loss against step, one panel per training stage (log axis where all losses > 0)."""
    stages = [s for s, h in loss_history.items() if len(h)]
    n = max(len(stages), 1)
    fig = Figure(figsize=(min(4.0 * n, 12.0), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, stage in zip(axes, stages, strict=False):
        loss = np.asarray(loss_history[stage], dtype=float)
        ax.plot(np.arange(loss.size), loss, color="tab:purple", lw=1.0)
        finite = loss[np.isfinite(loss)]
        if finite.size and (finite > 0).all():
            ax.set_yscale("log")
        ax.set_title(stage, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, which="both")
    return _png(fig)
