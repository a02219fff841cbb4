"""The report's figures as PNG bytes (drawn by :mod:`reducer.report.plots`)."""

from __future__ import annotations

from typing import Any

from reducer.metrics import (
    spike_times,
)
from reducer.report import plots
from reducer.report.data import ReportData
from reducer.report.html import fmt


def draw_figures(data: ReportData, metrics: dict[str, Any]) -> dict[str, bytes]:
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
            f"Γ(4 ms) {fmt(m['gamma_4ms'])}, Γ(2 ms) {fmt(m['gamma_2ms'])}, "
            f"RMSE {fmt(m['v_rmse_mV'], 2)} mV, spikes {m['n_spikes_model']} "
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
