"""How much the fixed time step shapes the trained model: fixed-step vs the ODE solved to
tolerance (diffrax).

The hybrid model is trained, exported and validated with NEURON's fixed-step scheme at the
run's dt; that scheme is first-order accurate in dt. Solving the same model as an ODE with an
adaptive solver (:func:`reducer.hybrid.solve_hybrid`, Kvaerno5, rtol 1e-6) shows how far its
spikes move when the time step goes to zero. A large shift (typical near threshold, where
spike latency is very sensitive) tells users to run the exported cell at the dt it was
trained at, not with another dt or CVode, without validating again.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from reducer import metrics as M
from reducer.errors import ReduceCellError
from reducer.progress import log
from reducer.protocols import Protocol

PAIR_WINDOW_MS = 50.0  # a fixed-step spike and its ODE twin: nearest spikes closer than this


def timestep_check(cell, protocols: list[Protocol], dt_ms: float, v0_mV: float,
                   v_fixed: dict[str, np.ndarray], rtol: float = 1e-6) -> dict[str, Any]:
    """Fixed-step traces ``v_fixed`` (by protocol name) against diffrax solutions.

    Only piecewise-constant stimuli with few changes (steps) are solved: noisy stimuli change
    every dt and would turn the adaptive solver into a fixed-step one.

    Returns:
        ``solver``, ``rtol``, ``per_protocol`` (``name``, ``n_spikes_fixed``,
        ``n_spikes_ode``, ``max_spike_shift_ms`` (nearest-spike pairs within 50 ms; NaN
        without pairs), ``subthreshold_rmse_mV``, ``wall_s``, or ``error``) and the maxima
        over protocols ``max_spike_shift_ms`` and ``max_spike_count_difference``.
    """
    from reducer.hybrid import solve_hybrid

    per = []
    for p in protocols:
        if p.kind != "step" or p.name not in v_fixed:
            continue
        i = p.waveform_nA(dt_ms)
        t0 = time.perf_counter()
        try:
            v_ode = np.asarray(solve_hybrid(cell, i, dt_ms, cell.init_state(v0_mV), rtol=rtol))
        except ReduceCellError as exc:
            per.append({"name": p.name, "error": str(exc)})
            continue
        vf = np.asarray(v_fixed[p.name])
        n = min(vf.size, v_ode.size)
        t = np.arange(n) * dt_ms
        s_f, s_o = M.spike_times(t, vf[:n]), M.spike_times(t, v_ode[:n])
        shift = M.spike_shift_ms(s_f, s_o, PAIR_WINDOW_MS)
        per.append({"name": p.name, "n_spikes_fixed": int(s_f.size),
                    "n_spikes_ode": int(s_o.size), "max_spike_shift_ms": shift,
                    "subthreshold_rmse_mV": M.subthreshold_rmse(t, vf[:n], v_ode[:n], s_f, s_o),
                    "wall_s": time.perf_counter() - t0})
        log(f"time-step check '{p.name}': spikes {s_f.size} (dt {dt_ms} ms) vs {s_o.size} "
            f"(ODE to rtol {rtol:g}), largest spike shift {shift:.3g} ms")
    ok = [r for r in per if "error" not in r]
    shifts = [r["max_spike_shift_ms"] for r in ok if np.isfinite(r["max_spike_shift_ms"])]
    return {
        "solver": "diffrax Kvaerno5, PID controller",
        "rtol": rtol,
        "dt_ms": dt_ms,
        "per_protocol": per,
        "max_spike_shift_ms": max(shifts) if shifts else float("nan"),
        "max_spike_count_difference": max(
            (abs(r["n_spikes_fixed"] - r["n_spikes_ode"]) for r in ok), default=0),
    }
