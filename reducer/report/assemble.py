"""Gather a run's outputs (dataset, trained model, NEURON validation, timings) into the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from reducer import metrics as M
from reducer.cell.stimuli import describe_user_stimuli
from reducer.hybrid.cell import HybridCell
from reducer.hybrid.table import as_exported
from reducer.progress import log
from reducer.protocols import Protocol, ProtocolSet
from reducer.report import (
    FICurve,
    HeldoutProtocol,
    LearnedCurves,
    Provenance,
    ReportData,
    SpeedTimings,
    TrainingSummary,
    holds_message,
    intrinsic_offset_pA,
    own_step_tolerance,
    perturbation_label,
    range_message,
    stuck_message,
    write_report,
)
from reducer.validate.heldout import simulate_jax, time_jax
from reducer.validate.timestep import timestep_check


def learned_curves(model, v_min: float = -100.0, v_max: float = 50.0, n: int = 301):
    import jax

    v = np.linspace(v_min, v_max, n)
    z_inf, tau = jax.vmap(model.gates)(v)
    return LearnedCurves(v_mV=v, z_inf=np.asarray(z_inf).T, tau_ms=np.asarray(tau).T)


def assemble_report(run, ps: ProtocolSet, targets: dict[str, Any], result, exports, val,
                    cal: dict[str, float]) -> dict[str, Any]:
    from reducer.targets import Dataset

    dt = run.dt_ms
    meta = targets["meta"]
    v_rest = float(meta["v_rest_mV"])
    membrane = run.membrane(targets["soma"])
    soma = targets["soma"]
    export_info = json.loads((exports["reduced"] / "export.json").read_text())
    # The JAX twin computes what the export computes: TABLE gates if it has them.
    cell = HybridCell.for_soma(as_exported(result.model, export_info.get("table")), membrane,
                               soma)
    test = list(ps.test)
    log("simulating the held-out protocols in JAX (same model as the export)")
    v_jax = simulate_jax(cell, test, dt, v_rest)
    jax_s = time_jax(cell, _by_name(test, val["timing_protocol"]), dt, v_rest)
    log("time-step check: the held-out steps solved as an ODE to tolerance (diffrax)")
    ts_check = timestep_check(cell, test, dt, v_rest, v_jax)

    full = Dataset.load([Path(p) for p in targets["splits"]["test"]])
    perturbed = _perturbed_traces(targets)
    red = val["traces"]["reduced"]
    base = val["traces"].get("baseline", {})
    heldout = []
    for name, tr in zip(full.names, full.traces, strict=True):
        p = _by_name(test, name)
        heldout.append(HeldoutProtocol(
            name=name, kind=p.kind, regime=p.note or "held out", t_ms=tr["t_ms"],
            i_stim_nA=tr["i_stim_nA"], v_full_mV=tr["v_soma_mV"],
            v_reduced_mV=red[name]["v_mV"], v_jax_mV=v_jax[name],
            v_baseline_mV=base[name]["v_mV"] if name in base else None,
            i_axial_full_nA=tr["i_axial_nA"], i_axial_reduced_nA=red[name]["i_axial_nA"],
            stim_window_ms=p.stimulus_window_ms(), v_full_perturbed_mV=perturbed.get(name)))

    syn = _synaptic_heldout(val.get("heldout_synaptic"))
    if syn is not None:
        heldout.append(syn)

    fi = Dataset.load([Path(p) for p in targets["splits"]["fi"]])
    amps, r_full, r_red, r_base, lat_full, lat_red = [], [], [], [], [], []
    own_rate, own_lat = [], []
    size = intrinsic_offset_pA([k for runs in perturbed.values() for k in runs],
                               cal.get("rheobase_nA"))
    for name, tr in zip(fi.names, fi.traces, strict=True):
        p = _by_name(list(ps.fi_steps), name)
        w0, w1 = p.stimulus_window_ms()
        t = tr["t_ms"]
        amps.append(p.params["amp_nA"])
        runs = [v for k, v in perturbed.get(name, {}).items() if size and abs(k) == size]
        own = (own_step_tolerance(t, M.step_features(t, tr["v_soma_mV"], (w0, w1)), runs,
                                  (w0, w1)) if runs else {})
        own_rate.append(own.get("rate_rel_change", np.nan))
        own_lat.append(own.get("latency_shift_ms", np.nan))
        s_full, s_red = M.spike_times(t, tr["v_soma_mV"]), M.spike_times(t, red[name]["v_mV"])
        r_full.append(M.firing_rate_hz(s_full, w0, w1))
        r_red.append(M.firing_rate_hz(s_red, w0, w1))
        lat_full.append(M.first_spike_latency_ms(s_full[s_full <= w1], w0))
        lat_red.append(M.first_spike_latency_ms(s_red[s_red <= w1], w0))
        if name in base:
            r_base.append(M.firing_rate_hz(M.spike_times(t, base[name]["v_mV"]), w0, w1))
    fi_curve = FICurve(np.array(amps), np.array(r_full), np.array(r_red),
                       np.array(r_base) if r_base else None, np.array(lat_full),
                       np.array(lat_red), np.array(own_rate), np.array(own_lat))

    tm = val["timing"]
    speed = SpeedTimings(full_s=tm["full_s"], reduced_s=tm["reduced_s"],
                         soma_only_s=tm["soma_only_s"], simulated_ms=val["simulated_ms"],
                         repeats=run.opt.timing_repeats_full, baseline_s=tm.get("baseline_s"),
                         jax_s=jax_s)
    hist = result.history
    losses = {k: v for k, v in hist.items() if isinstance(v, list) and v
              and isinstance(v[0], (int, float))}
    training = TrainingSummary(loss_history=losses, wall_time_s=hist.get("wall_s", {}),
                               chosen_checkpoint=json.dumps(result.selection, default=str))
    prov = Provenance(cell_hash=meta["cell_hash"], seed=run.opt.seed,
                      neuron_version=meta["neuron_version"], dt_ms=dt,
                      celsius=meta["celsius_degC"],
                      extra={"cell": run.spec.name, "n_sections": meta["n_sections"],
                             "n_segments": meta["n_segments"],
                             "soma_area_um2": soma["area_um2"],
                             "rheobase_nA": cal["rheobase_nA"],
                             "input_resistance_MOhm": cal["input_resistance_MOhm"],
                             "user_stimuli": cal.get("user_stimuli", []),
                             "v_rest_mV": v_rest, "mechanism": export_info["mechanism"],
                             "n_states": export_info["n_states"],
                             "n_hidden": export_info["n_hidden"],
                             "use_table": export_info["use_table"],
                             "timing_protocol": val["timing_protocol"],
                             "stage_wall_s": run.timings})
    notes = [
        "Full and reduced cells both run in NEURON (fixed dt, same stimulus); the reduced cell "
        "is the exported NMODL mechanism in a one-segment soma.",
        "Held-out protocols are never used for training or model selection (selection uses "
        "the validation protocols, simulated closed loop in JAX).",
        f"Timing: median of {run.opt.timing_repeats_full} (full) / "
        f"{run.opt.timing_repeats_reduced} (reduced) runs of '{val['timing_protocol']}' "
        f"({val['simulated_ms']:.0f} ms) in one NEURON process, one cell at a time.",
        "Baseline: the linear filter bank of DESIGN.md (10 exponential filters of V, "
        "least-squares readout), exported and run in NEURON the same way.",
    ]
    if cal.get("user_stimuli"):
        notes.append("Cell: " + describe_user_stimuli(cal["user_stimuli"]) + ".")
    for label, stops in val.get("diverged", {}).items():
        notes.append(f"The {label} cell diverged in NEURON on " + "; ".join(
            f"'{name}' ({why})" for name, why in stops.items()) + ": its trace is NaN after "
            "the stop and counts as non-finite.")
    if ts_check["per_protocol"]:
        notes.append(
            f"Time step: the model is trained and exported at dt = {dt:g} ms (NEURON's "
            "fixed-step scheme). Solved as an ODE to tolerance (diffrax, held-out steps), its "
            f"spikes move by up to {ts_check['max_spike_shift_ms']:.3g} ms and the spike "
            f"counts differ by up to {ts_check['max_spike_count_difference']}: run the "
            "exported cell at the dt it was trained at (validate again before using another "
            "dt or CVode).")
    data = ReportData(cell_name=run.spec.name, provenance=prov, heldout=heldout, speed=speed,
                      learned_curves=learned_curves(result.model), fi_curve=fi_curve,
                      training=training, notes=notes, timestep_check=ts_check,
                      synaptic_check=val.get("synaptic_check"), holds=_holds_summary(run))
    write_report(run.out, data)
    metrics = json.loads((run.out / "metrics.json").read_text())
    _print_summary(metrics)
    return metrics


def _holds_summary(run) -> dict[str, Any]:
    """metrics.json's "holds": the option, whether the exported model was trained with the
    held-depolarised steps, and for "auto" the check that decided it."""
    from reducer.run_folder import SET_ASIDE

    option, choice = run.opt.holds, run.holds_choice
    out = {"option": {True: "on", False: "off"}.get(option, option), "used": bool(choice["holds"])}
    if option == "auto":
        out["no_holds_check"] = choice["no_holds_check"]
        if choice["holds"]:
            out["no_holds_export"] = f"{SET_ASIDE}/export"
    return out


def _synaptic_heldout(res: dict[str, Any] | None) -> HeldoutProtocol | None:
    """The held-out synaptic drive of the validate stage as a held-out protocol (None where
    it was skipped). Conductance input: the traces hold no injected current and no JAX twin."""
    if not res or res.get("skipped"):
        return None
    traces = [res["full"], res["exports"]["reduced"], *res["full_perturbed"].values()]
    base = res["exports"].get("baseline")
    if base is not None:
        traces.append(base)
    n = min(len(v) for v in traces)  # NEURON's recordings may differ by the last sample
    d = res["drive"]
    return HeldoutProtocol(
        name=res["name"], kind="synaptic",
        regime=f"held out: somatic synaptic drive {d['drive']:g}x rheobase (conductances), "
               f"new events (seed {d['seed']})",
        t_ms=np.arange(n) * float(res["dt_ms"]), i_stim_nA=np.zeros(n),
        v_full_mV=np.asarray(res["full"])[:n],
        v_reduced_mV=np.asarray(res["exports"]["reduced"])[:n],
        v_baseline_mV=None if base is None else np.asarray(base)[:n],
        stim_window_ms=(float(d["delay_ms"]), float(d["delay_ms"]) + float(d["dur_ms"])),
        v_full_perturbed_mV={round(float(k), 9): np.asarray(v)[:n]
                             for k, v in res["full_perturbed"].items()} or None,
        input_class="fluctuating")


def _perturbed_traces(targets: dict[str, Any]) -> dict[str, dict[float, np.ndarray]]:
    """{protocol: {offset_pA: full-cell V}} from the targets' "sensitivity" split, if any."""
    from reducer.targets import Dataset

    paths = targets["splits"].get("sensitivity") or []
    if not paths:
        return {}
    ds = Dataset.load([Path(p) for p in paths])
    out: dict[str, dict[float, np.ndarray]] = {}
    for name, tr, meta in zip(ds.names, ds.traces, ds.meta, strict=True):
        out.setdefault(name, {})[round(float(meta["offset_nA"]) * 1e3, 9)] = tr["v_soma_mV"]
    return out


def _by_name(protocols: list[Protocol], name: str) -> Protocol:
    for p in protocols:
        if p.name == name:
            return p
    raise KeyError(name)


def _print_summary(m: dict[str, Any]) -> None:
    h = m["heldout"]
    b = m.get("baseline") or {}
    s = m["speed"]

    def f(x, d=3):
        return "n/a" if x is None else f"{x:.{d}f}"

    fl, st = h.get("fluctuating") or {}, h.get("steps") or {}
    if fl.get("n_protocols"):
        intr = fl.get("intrinsic")
        log(f"fluctuating inputs ({', '.join(fl['protocols'])}): gamma(4 ms) "
            f"{f(fl.get('gamma_4ms'))}, gamma(2 ms) {f(fl.get('gamma_2ms'))}"
            + (f"; the full cell against itself with {perturbation_label(intr)} added: "
               f"{f(intr.get('gamma_4ms'))} / {f(intr.get('gamma_2ms'))}; reduced / full "
               f"cell's own: {f(fl.get('normalised_gamma_4ms'))} / "
               f"{f(fl.get('normalised_gamma_2ms'))}" if intr else ""))
    if st.get("n_steps"):
        def pct(x):
            return f(None if x is None else 100 * x, 1)
        fi_, hs = st.get("fi") or {}, st.get("heldout_steps") or {}
        log(f"steps: f-I ({fi_.get('n_steps', 0)}) largest rate error "
            f"{pct(fi_.get('max_abs_rate_rel_error'))} %, first-spike latency "
            f"{f(fi_.get('max_abs_latency_error_ms'), 2)} ms; held-out steps "
            f"({hs.get('n_steps', 0)}) rate {pct(hs.get('max_abs_rate_rel_error'))} % (the "
            f"full cell's own {pct(hs.get('max_own_rate_rel_change'))} %), latency "
            f"{f(hs.get('max_abs_latency_error_ms'), 2)} ms (own "
            f"{f(hs.get('max_own_latency_shift_ms'), 2)} ms); rest "
            f"{f(st.get('max_abs_rest_error_mV'), 2)} mV; subthreshold RMSE "
            f"{f(st.get('subthreshold_rmse_mV'), 2)} mV (the full cell's own "
            f"{f(st.get('own_subthreshold_rmse_mV'), 2)} mV)")
    log("held-out, every protocol (reduced cell in NEURON vs full cell):")
    log(f"  gamma(4 ms) {f(h.get('gamma_4ms'))} (defined on {h.get('n_gamma_4ms')} of "
        f"{h.get('n_protocols')} protocols)   gamma(2 ms) {f(h.get('gamma_2ms'))}   "
        f"V RMSE {f(h.get('v_rmse_mV'), 2)} mV   subthreshold RMSE "
        f"{f(h.get('subthreshold_rmse_mV'), 2)} mV   spikes {h.get('n_spikes_model')}/"
        f"{h.get('n_spikes_ref')}")
    if b:
        log(f"  linear baseline: gamma(4 ms) {f(b.get('gamma_4ms'))}   subthreshold RMSE "
            f"{f(b.get('subthreshold_rmse_mV'), 2)} mV   spikes {b.get('n_spikes_model')}")
    for fp in h.get("full_cell_perturbed") or []:
        log(f"  full cell against itself with {perturbation_label(fp)} added: "
            f"gamma(4 ms) {f(fp.get('gamma_4ms'))} (what gamma these protocols allow)")
    runaway = range_message(h["per_protocol"])
    if runaway:
        log(f"WARNING: {runaway}")
    rep = h.get("reproducible")
    if rep:
        log(f"  on the {rep['n_protocols']} protocol(s) where the full cell keeps gamma(4 ms) >= "
            f"{rep['min_full_cell_gamma_4ms']:g} with {perturbation_label(rep)} added: "
            f"gamma(4 ms) {f(rep.get('gamma_4ms'))} (defined on {rep['n_gamma_4ms']})")
    sc = m.get("synaptic_check")
    if sc and sc.get("skipped"):
        log(f"  synaptic check not run: {sc['skipped']}")
    elif sc:
        for c in sc["conditions"]:
            log(f"  synaptic drive {c['drive']:g}x rheobase, seed {c['seed']}: gamma(4 ms) "
                f"{f(c['gamma_4ms'])}, spikes {c['n_spikes_reduced']}/{c['n_spikes_full']}, "
                f"longest above -40 mV {c['longest_depolarised_ms_reduced']:.1f} ms (full "
                f"{c['longest_depolarised_ms_full']:.1f} ms)")
        if sc["n_stuck"]:
            log(f"WARNING: {stuck_message(sc)}")
    if m.get("holds"):
        log(f"  {holds_message(m['holds'])}")
    log(f"speed in NEURON: full {f(s.get('full_s'))} s, reduced {f(s.get('reduced_s'))} s "
        f"-> {f(s.get('speedup'), 1)}x (soma-only floor {f(s.get('floor_speedup'), 1)}x)")
