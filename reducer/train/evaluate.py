"""Closed-loop simulation on a padded set, its metrics and the selection score that
every stage uses to keep a candidate."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import numpy as np

from reducer import metrics
from reducer.hybrid.cell import HybridCell
from reducer.train.data import Padded


def simulate_closed_loop(cell: HybridCell, v0, i_stim, dt_ms: float):
    """Closed-loop V for every protocol from its settled state v0 (P,); i_stim (P, N+1)."""

    def one(v_init, i):
        v, _ = cell.simulate(i[1:], dt_ms, cell.init_state(v_init))
        return v

    return jax.vmap(one)(v0, i_stim)


_sim_jit = eqx.filter_jit(simulate_closed_loop)


def closed_loop_metrics(cell: HybridCell, data: Padded, dt_ms: float) -> dict[str, Any]:
    """Metrics of the closed-loop JAX model against the recorded full-cell traces; spike
    metrics inside each protocol's stimulus window, as the report counts them."""
    v_model = np.asarray(_sim_jit(cell, data.v[:, 0], data.i_stim, dt_ms))
    per = []
    for p in range(len(data.names)):
        n = int(data.lengths[p])
        t = data.t_ms[:n]
        window = data.windows[p] if data.windows else None
        r = metrics.compare_traces(t, np.asarray(data.v[p, :n]), v_model[p, :n], window)
        r["name"] = data.names[p]
        per.append(r)
    summ = metrics.summarise(per)
    return {"summary": summ, "per_protocol": per, "v_model": v_model}


def selection_score(summary: dict[str, Any]) -> float:
    """Higher is better: validation Γ(4 ms), minus subthreshold error and spike-count error."""
    g = summary.get("gamma_4ms", float("nan"))
    g = 0.0 if not math.isfinite(g) else g
    sub = summary.get("subthreshold_rmse_mV", float("nan"))
    sub = 20.0 if not math.isfinite(sub) else sub
    rel = summary.get("spike_count_rel_error", float("nan"))
    rel = 0.0 if not math.isfinite(rel) else rel
    return g - 0.05 * sub - 0.5 * rel


def short_summary(summary: dict) -> dict:
    keys = ("gamma_4ms", "gamma_2ms", "v_rmse_mV", "subthreshold_rmse_mV",
            "spike_count_rel_error", "n_spikes_ref", "n_spikes_model")
    return {k: summary.get(k) for k in keys}


def format_summary(s: dict) -> str:
    return (f"Γ4={s.get('gamma_4ms', float('nan')):.3f} Γ2={s.get('gamma_2ms', float('nan')):.3f}"
            f" sub-RMSE={s.get('subthreshold_rmse_mV', float('nan')):.2f} mV"
            f" spikes {s.get('n_spikes_model')}/{s.get('n_spikes_ref')}")
