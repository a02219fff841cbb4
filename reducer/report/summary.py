"""The numbers of ``metrics.json``, computed from a :class:`ReportData` (layout in the
package docstring)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reducer.metrics import (
    SPIKE_THRESHOLD_mV,
    compare_traces,
    nanmean_over,
    spike_shift_ms,
    spike_times,
    step_features,
    summarise,
)
from reducer.report.data import SCHEMA_VERSION, HeldoutProtocol, ReportData, TrainingSummary


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
        "input_class": p.input_class,
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
    if p.input_class == "step" and p.stim_window_ms is not None:
        out["step_features"] = {
            "full": step_features(p.t_ms, p.v_full_mV, p.stim_window_ms),
            "reduced": step_features(p.t_ms, p.v_reduced_mV, p.stim_window_ms)}
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
    is_step = p.input_class == "step" and p.stim_window_ms is not None
    full = step_features(p.t_ms, p.v_full_mV, p.stim_window_ms) if is_step else None
    for size, offsets in sorted(by_size.items()):
        runs = [compare_traces(p.t_ms, p.v_full_mV, p.v_full_perturbed_mV[k], p.stim_window_ms)
                for k in offsets]
        s = summarise(runs)
        entry = {"offset_pA": size, "offsets_pA": offsets, "gamma_4ms": s["gamma_4ms"],
                 "gamma_2ms": s["gamma_2ms"], "n_spikes": [r["n_spikes_model"] for r in runs]}
        if full is not None:
            entry.update(_own_step_tolerance(p, full, offsets))
            # a step's subthreshold RMSE has the full cell's own beside it, as rate and latency
            entry["subthreshold_rmse_mV"] = _largest_abs(r["subthreshold_rmse_mV"]
                                                         for r in runs)
        out.append(entry)
    return out


def _largest_abs(values) -> float:
    """Largest |x| over the finite values (None and NaN skipped); NaN if there are none."""
    v = [abs(x) for x in values if x is not None and math.isfinite(x)]
    return max(v) if v else float("nan")


def own_step_tolerance(t_ms, full: dict[str, Any], v_perturbed_mV: list,
                       window_ms: tuple[float, float]) -> dict[str, float]:
    """How far the full cell's own step features move when ±x pA is added: the larger of
    the signs' rate change (relative, NaN where the full cell does not fire) and first-spike
    latency shift. A reduction cannot be held to a rate or latency the cell itself does not
    keep under a 1 %-of-rheobase change. ``full``: the unperturbed trace's step features;
    ``v_perturbed_mV``: the full cell's traces with +x and -x added."""
    feats = [step_features(t_ms, v, window_ms) for v in v_perturbed_mV]
    return {"rate_rel_change": _largest_abs(_rel_error(full["rate_hz"], f["rate_hz"])
                                            for f in feats),
            "latency_shift_ms": _largest_abs(f["latency_ms"] - full["latency_ms"]
                                             for f in feats)}


def _own_step_tolerance(p: HeldoutProtocol, full: dict[str, Any], offsets: list[float]
                        ) -> dict[str, float]:
    return own_step_tolerance(p.t_ms, full, [p.v_full_perturbed_mV[k] for k in offsets],
                              p.stim_window_ms)


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


def perturbed_by_size(protocol: dict[str, Any]) -> dict[float, dict[str, Any]]:
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
        own = perturbed_by_size(p)
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


# The full cell's intrinsic reliability is its Γ against itself with this offset (% of the
# rheobase) added to the stimulus, or the nearest sensitivity size the run has.
INTRINSIC_OFFSET_PCT_RHEOBASE = 1.0


def _distance_to_intrinsic(pct_rheobase: float) -> float:
    """How far (log ratio) a sensitivity size is from :data:`INTRINSIC_OFFSET_PCT_RHEOBASE`."""
    return abs(math.log(pct_rheobase / INTRINSIC_OFFSET_PCT_RHEOBASE))


def _intrinsic_size(perturbed: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The entry of the summary ``full_cell_perturbed`` list used as intrinsic reliability:
    the size nearest :data:`INTRINSIC_OFFSET_PCT_RHEOBASE` % of rheobase (the largest where
    the rheobase is unknown)."""
    if not perturbed:
        return None
    if all("offset_pct_rheobase" in e for e in perturbed):
        return min(perturbed, key=lambda e: _distance_to_intrinsic(e["offset_pct_rheobase"]))
    return perturbed[-1]


def intrinsic_offset_pA(sizes_pA, rheobase_nA: float | None) -> float | None:
    """Of the sensitivity sizes (pA), the one nearest :data:`INTRINSIC_OFFSET_PCT_RHEOBASE` %
    of the rheobase, as :func:`_intrinsic_size` picks it (the largest without a rheobase)."""
    sizes = sorted({abs(float(x)) for x in sizes_pA if x})
    if not sizes:
        return None
    if not rheobase_nA:
        return sizes[-1]
    return min(sizes, key=lambda x: _distance_to_intrinsic(100.0 * x * 1e-3 / rheobase_nA))


def _ratio(a: float, b: float) -> float:
    return a / b if math.isfinite(a) and math.isfinite(b) and b > 0 else float("nan")


def fluctuating_summary(per: list[dict[str, Any]], perturbed: list[dict[str, Any]] | None
                        ) -> dict[str, Any]:
    """The headline on fluctuating inputs (OU noise, chirp, synaptic drive): the reduced
    cell's mean Γ, the full cell's intrinsic Γ (against itself with ± about 1 % of the
    rheobase added, :func:`_intrinsic_size`) on the same protocols, and their ratio
    ``normalised_gamma_<Δ>`` = mean Γ / mean intrinsic Γ (Jolivet et al. 2008 divide by the
    cell's own reliability the same way). ``per_protocol``: name, Γ, intrinsic Γ, ratio."""
    rows = [p for p in per if p.get("input_class") == "fluctuating"]
    out: dict[str, Any] = {"protocols": [p["name"] for p in rows], "n_protocols": len(rows)}
    for key in ("gamma_4ms", "gamma_2ms"):
        out[key], out[f"n_{key}"] = nanmean_over(rows, key)
    size = _intrinsic_size(perturbed)
    table = []
    for p in rows:
        own = perturbed_by_size(p).get(size["offset_pA"]) if size else None
        table.append({"name": p["name"], "gamma_4ms": p["gamma_4ms"],
                      "gamma_2ms": p["gamma_2ms"],
                      "intrinsic_gamma_4ms": own["gamma_4ms"] if own else float("nan"),
                      "intrinsic_gamma_2ms": own["gamma_2ms"] if own else float("nan")})
    out["per_protocol"] = table
    if size is not None:
        out["intrinsic"] = {k: size[k] for k in ("offset_pA", "offset_pct_rheobase")
                            if k in size}
        for key in ("gamma_4ms", "gamma_2ms"):
            g, n = nanmean_over(table, f"intrinsic_{key}")
            out["intrinsic"][key], out["intrinsic"][f"n_{key}"] = g, n
            out[f"normalised_{key}"] = _ratio(out[key], g)
    return out


def _rel_error(full: float, model: float) -> float:
    """(model − full) / full; NaN where the full cell does not fire."""
    return (model - full) / full if full > 0 else float("nan")


def steps_summary(per: list[dict[str, Any]], fi: dict[str, Any] | None,
                  perturbed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the steps (held-out steps and the f–I steps) are judged by, full vs reduced:
    firing rate (relative error where the full cell fires), first-spike latency, ISI CV,
    adaptation index, subthreshold RMSE and rest. ``max_abs_*`` are over every step where
    both cells define the number; the f–I steps add their rates and latencies. ``fi`` and
    ``heldout_steps`` give the largest rate and latency errors of each group apart; a
    held-out step row, and an f–I row where the run has the f–I steps' sensitivity runs,
    also carries the full cell's own tolerance (``own_rate_rel_change``,
    ``own_latency_shift_ms``: how far its rate and latency move with ± about 1 % of the
    rheobase added, :func:`_intrinsic_size`; NaN where not measured); a held-out step row also
    ``own_subthreshold_rmse_mV``, the full cell's subthreshold RMSE against itself under the
    same change (the larger sign), and ``own_subthreshold_rmse_mV`` is their mean."""
    size = _intrinsic_size(perturbed)
    rows = []
    for p in per:
        sf = p.get("step_features")
        if not sf:
            continue
        f, r = sf["full"], sf["reduced"]
        own = perturbed_by_size(p).get(size["offset_pA"], {}) if size else {}
        rows.append({"name": p["name"], "group": "heldout",
                     "own_rate_rel_change": own.get("rate_rel_change", float("nan")),
                     "own_latency_shift_ms": own.get("latency_shift_ms", float("nan")),
                     "own_subthreshold_rmse_mV": own.get("subthreshold_rmse_mV", float("nan")),
                     "rate_full_hz": f["rate_hz"],
                     "rate_reduced_hz": r["rate_hz"],
                     "rate_rel_error": _rel_error(f["rate_hz"], r["rate_hz"]),
                     "latency_full_ms": f["latency_ms"], "latency_reduced_ms": r["latency_ms"],
                     "isi_cv_full": f["isi_cv"], "isi_cv_reduced": r["isi_cv"],
                     "adaptation_full": f["adaptation_index"],
                     "adaptation_reduced": r["adaptation_index"],
                     "rest_full_mV": f["rest_mV"], "rest_reduced_mV": r["rest_mV"],
                     "subthreshold_rmse_mV": p["subthreshold_rmse_mV"],
                     "gamma_4ms": p["gamma_4ms"]})
    amps = [] if fi is None else list(fi["amplitudes_nA"])
    for k, a in enumerate(amps):
        rf, rr = float(fi["rate_full_hz"][k]), float(fi["rate_reduced_hz"][k])
        opt = {key: float("nan") if fi.get(key) is None else float(fi[key][k])
               for key in ("latency_full_ms", "latency_reduced_ms", "own_rate_rel_change",
                           "own_latency_shift_ms")}
        rows.append({"name": f"f-I {float(a):.3g} nA", "group": "fi",
                     "own_rate_rel_change": opt["own_rate_rel_change"],
                     "own_latency_shift_ms": opt["own_latency_shift_ms"],
                     "rate_full_hz": rf,
                     "rate_reduced_hz": rr, "rate_rel_error": _rel_error(rf, rr),
                     "latency_full_ms": opt["latency_full_ms"],
                     "latency_reduced_ms": opt["latency_reduced_ms"]})

    largest = _largest_abs

    def diffs(a: str, b: str, group: str | None = None) -> list[float]:
        return [r[b] - r[a] for r in rows if a in r and b in r
                and (group is None or r["group"] == group)]

    def group_summary(group: str) -> dict[str, Any]:
        g = [r for r in rows if r["group"] == group]
        out = {"n_steps": len(g),
               "max_abs_rate_rel_error": largest(r["rate_rel_error"] for r in g),
               "max_abs_latency_error_ms": largest(diffs("latency_full_ms",
                                                         "latency_reduced_ms", group))}
        out["max_own_rate_rel_change"] = largest(r["own_rate_rel_change"] for r in g)
        out["max_own_latency_shift_ms"] = largest(r["own_latency_shift_ms"] for r in g)
        return out

    sub, n_sub = nanmean_over([r for r in rows if "subthreshold_rmse_mV" in r],
                              "subthreshold_rmse_mV")
    own_sub, _ = nanmean_over([r for r in rows if "own_subthreshold_rmse_mV" in r],
                              "own_subthreshold_rmse_mV")
    return {"per_step": rows, "n_steps": len(rows),
            "fi": group_summary("fi"), "heldout_steps": group_summary("heldout"),
            "max_abs_rate_rel_error": largest(r["rate_rel_error"] for r in rows),
            "max_abs_latency_error_ms": largest(diffs("latency_full_ms", "latency_reduced_ms")),
            "max_abs_isi_cv_error": largest(diffs("isi_cv_full", "isi_cv_reduced")),
            "max_abs_adaptation_error": largest(diffs("adaptation_full", "adaptation_reduced")),
            "max_abs_rest_error_mV": largest(diffs("rest_full_mV", "rest_reduced_mV")),
            "subthreshold_rmse_mV": sub, "n_subthreshold_rmse_mV": n_sub,
            "own_subthreshold_rmse_mV": own_sub}


def build_metrics(data: ReportData) -> dict[str, Any]:
    """The metrics.json content as a Python dict (NaN still NaN; see :func:`to_jsonable`)."""
    per = [protocol_metrics(p) for p in data.heldout]
    heldout: dict[str, Any] = dict(summarise(per))
    heldout["per_protocol"] = per
    perturbed = _perturbed_summary(per, data.provenance.extra.get("rheobase_nA"))
    if perturbed is not None:
        heldout["full_cell_perturbed"] = perturbed
        heldout["reproducible"] = _reproducible_summary(per, perturbed)
    heldout["fluctuating"] = fluctuating_summary(per, perturbed)
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
    fi_dict = None if fi is None else {
        "amplitudes_nA": fi.amplitudes_nA,
        "rate_full_hz": fi.rate_full_hz,
        "rate_reduced_hz": fi.rate_reduced_hz,
        "rate_baseline_hz": fi.rate_baseline_hz,
        "latency_full_ms": fi.latency_full_ms,
        "latency_reduced_ms": fi.latency_reduced_ms,
        "own_rate_rel_change": fi.own_rate_rel_change,
        "own_latency_shift_ms": fi.own_latency_shift_ms,
    }
    heldout["steps"] = steps_summary(per, fi_dict, perturbed)
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
        "fi_curve": fi_dict,
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
