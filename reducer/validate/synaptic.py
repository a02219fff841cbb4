"""Synaptic input at the soma: the full and the reduced cell under the same conductance drive.

Training and the held-out protocols inject current. In a network the cell is driven by
synapses instead: conductances whose current depends on V and which add to the membrane's
conductance. With every input at the soma, the dendrites still see nothing but the somatic
voltage, so a learned axial current that is a correct function of the voltage history should
carry over. This module tests that, in NEURON, with NEURON's built-in ``ExpSyn``:

* one excitatory ExpSyn (reversal ``e_exc_mV``) and one inhibitory ExpSyn (``e_inh_mV``) at the
  soma, each receiving a Poisson train of events (many independent synapses of one kind add
  up to one ExpSyn, as ExpSyn is linear in its events);
* the weights are set from the rheobase: at the resting potential, the mean synaptic current
  is ``drive`` × rheobase, with mean inhibitory conductance ``inh_ratio`` × the excitatory one;
* the very same event times go to the full cell (settled as for the targets) and to each
  exported reduced cell, and, as a self-check, to the full cell with a constant ± offset
  current added (how reproducible its spike times are under this input).

The same synapses can drive the full cell in training (``--protocols default+synaptic``,
:func:`reducer.protocols.default_protocols`): spikes under a shunting conductance, whose
axial current no injected-current trace shows. ``FullCellRig`` then records the synapses'
current as injected current (:meth:`SomaSynapses.current_in_nA`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from reducer.metrics import compare_traces, longest_depolarised_ms
from reducer.progress import Progress
from reducer.protocols.synapses import SomaSynapses, SynapticDrive

# The run's own check (the validate stage of reduce-cell): the strongest drive of
# benchmarks/synaptic_input.py with both of its seeds. There the reduced CA1 cell trained
# without the held-depolarised steps locked near -20 mV for 130-210 ms (README).
CHECK_DRIVES = (3.5,)
CHECK_SEEDS = (0, 1)
# A spike spends about a millisecond above -40 mV; a cell in depolarisation block, hundreds.
STUCK_MS = 50.0


COMPARE_KEYS = ("gamma_4ms", "gamma_2ms", "v_rmse_mV", "subthreshold_rmse_mV", "n_spikes_ref",
                "n_spikes_model", "rate_ref_hz", "rate_model_hz")


def compare_under_drive(t_ms, v_ref, v_model, window_ms) -> dict[str, Any]:
    """:func:`reducer.metrics.compare_traces` over the traces' common length (a non-finite
    value becomes None: JSON-able), plus the model's ``longest_depolarised_ms`` in the window."""
    n = min(len(v_ref), len(v_model))
    t, v_ref, v_model = np.asarray(t_ms)[:n], np.asarray(v_ref)[:n], np.asarray(v_model)[:n]
    m = compare_traces(t, v_ref, v_model, window_ms)
    out = {k: (None if isinstance(m[k], float) and not np.isfinite(m[k]) else m[k])
           for k in COMPARE_KEYS}
    out["longest_depolarised_ms"] = longest_depolarised_ms(t, v_model, window_ms=window_ms)
    return out


def stuck_depolarised(full_longest_ms: float, model_longest_ms: float) -> bool:
    """The model stays above -40 mV for more than :data:`STUCK_MS` at a stretch where the full
    cell does not (both from :func:`reducer.metrics.longest_depolarised_ms`)."""
    return model_longest_ms > STUCK_MS and full_longest_ms <= STUCK_MS


def synaptic_worker(spec, export_dirs: dict[str, str], drives: list[dict], rheobase_nA: float,
                    v_rest_mV: float, offsets_pA: list[float],
                    settle_ms: float = 500.0) -> dict[str, Any]:
    """NEURON-process entry point: soma V of the full cell (and of the full cell with each
    constant ±offset added) and of every export under each synaptic drive.

    Returns {"dt_ms", "drives": [{"drive", "weights_uS", "n_events", "full": v,
    "full_perturbed": {offset_pA: v}, "exports": {label: v}, "mean_g_uS": {who: [g_e, g_i]}}]}.
    """
    from reducer.targets import FullCellRig
    from reducer.validate.exported import delete_sections, run_timed, with_export_mechanisms

    spec, infos = with_export_mechanisms(spec, export_dirs)
    rig = FullCellRig(spec, settle_ms=settle_ms)
    h, dt = rig.h, rig.dt_ms
    plans = [SynapticDrive(**d) for d in drives]
    results: list[dict[str, Any]] = []
    n_full = len(plans) * (1 + 2 * len(offsets_pA))
    prog = Progress(n_full, "full cell, synaptic input", min_interval_s=0.0)
    syn = rig.synapses  # the rig's own two ExpSyn, silent between runs
    for plan in plans:
        w = plan.weights_uS(rheobase_nA, v_rest_mV)
        n = int(round(plan.tstop_ms / dt))
        res: dict[str, Any] = {"drive": plan.to_dict(), "weights_uS": list(w),
                               "mean_g_uS": {}, "full_perturbed": {}, "exports": {}}
        res["full"] = rig.run(np.zeros(n), synapses=(plan, w))["v_soma_mV"]
        res["n_events"] = [len(t) for t in syn.times]  # the events that run queued
        res["mean_g_uS"]["full"] = syn.mean_g_uS(plan.window_ms, dt)
        prog.update(prog.done + 1, f"drive {plan.drive:g}")
        for off in offsets_pA:
            for sign in (-1.0, 1.0):
                res["full_perturbed"][sign * off] = rig.run(
                    np.full(n, sign * off * 1e-3), synapses=(plan, w))["v_soma_mV"]
                prog.update(prog.done + 1, f"drive {plan.drive:g}, {sign * off:+g} pA")
        results.append(res)
    prog.close()
    syn.close()
    delete_sections(h, rig.cell.sections)
    rig = None

    from mod_export import load_template

    for label, folder in export_dirs.items():
        info = infos[label]
        rc = load_template(folder)()
        seg = getattr(rc, info["soma_section"])(0.5)
        v_rec = h.Vector().record(seg._ref_v)
        for plan, res in zip(plans, results, strict=True):
            syn = SomaSynapses(h, seg, plan, tuple(res["weights_uS"]))
            run_timed(h, info["v_init_mV"], plan.tstop_ms)
            res["exports"][label] = np.array(v_rec)
            res["mean_g_uS"][label] = syn.mean_g_uS(plan.window_ms, dt)
            syn.close()
        del v_rec, seg
        rc = None
    return {"dt_ms": dt, "drives": results}


def synaptic_check(spec, export_dir, rheobase_nA: float, v_rest_mV: float,
                   settle_ms: float = 500.0, dur_ms: float = 1000.0) -> dict[str, Any]:
    """The full cell and the exported reduced cell under strong somatic synaptic drive
    (:data:`CHECK_DRIVES` x :data:`CHECK_SEEDS`), in a fresh NEURON process: does the reduced
    cell lock into depolarisation block where the full cell keeps firing?

    Returns {"drive": the shared SynapticDrive fields, "conditions": [{"drive", "seed",
    "gamma_4ms" (None where undefined), "n_spikes_full", "n_spikes_reduced",
    "longest_depolarised_ms_full", "longest_depolarised_ms_reduced", "stuck"}], "n_stuck"},
    with "skipped" (the reason) and no conditions where the drive cannot be set up.
    """
    from reducer.isolated import run_isolated

    plans = [SynapticDrive(drive=d, seed=s, dur_ms=dur_ms) for d in CHECK_DRIVES
             for s in CHECK_SEEDS]
    shared = {k: v for k, v in plans[0].to_dict().items() if k not in ("drive", "seed")}
    try:
        for p in plans:
            p.weights_uS(rheobase_nA, v_rest_mV)
    except ValueError as exc:  # a resting potential the inhibition does not pull down from
        return {"drive": shared, "conditions": [], "n_stuck": 0, "skipped": str(exc)}
    res = run_isolated("reducer.validate.synaptic:synaptic_worker", spec=spec,
                       export_dirs={"reduced": str(export_dir)},
                       drives=[p.to_dict() for p in plans], rheobase_nA=rheobase_nA,
                       v_rest_mV=v_rest_mV, offsets_pA=[], settle_ms=settle_ms)
    dt = res["dt_ms"]
    conditions = []
    for plan, r in zip(plans, res["drives"], strict=True):
        t = np.arange(len(r["full"])) * dt
        m = compare_under_drive(t, r["full"], r["exports"]["reduced"], plan.window_ms)
        lf = longest_depolarised_ms(t, r["full"], window_ms=plan.window_ms)
        lr = m["longest_depolarised_ms"]
        conditions.append({"drive": plan.drive, "seed": plan.seed,
                           "gamma_4ms": m["gamma_4ms"],
                           "n_spikes_full": int(m["n_spikes_ref"]),
                           "n_spikes_reduced": int(m["n_spikes_model"]),
                           "longest_depolarised_ms_full": lf,
                           "longest_depolarised_ms_reduced": lr,
                           "stuck": stuck_depolarised(lf, lr)})
    return {"drive": shared, "conditions": conditions,
            "n_stuck": sum(c["stuck"] for c in conditions)}


# The held-out fluctuating input of this kind (reducer.protocols.default_protocols holds the
# current-clamp ones): a drive between the synaptic benchmark's 1.5 and 3.5 x rheobase, with
# an event seed no training set (101-102), check or benchmark (0-1) uses.
HELDOUT_DRIVE = 2.5
HELDOUT_SEED = 201
HELDOUT_NAME = "test_syn_2.5R"


def heldout_synaptic(spec, export_dirs: dict[str, str], rheobase_nA: float, v_rest_mV: float,
                     offsets_pA: list[float], settle_ms: float = 500.0,
                     dur_ms: float = 1000.0) -> dict[str, Any] | None:
    """The held-out somatic synaptic drive (:data:`HELDOUT_DRIVE` x rheobase, event seed
    :data:`HELDOUT_SEED`) on the full cell, on the full cell with each ±offset added (its own
    reliability under this input) and on every export, in a fresh NEURON process.

    Returns {"name", "drive" (SynapticDrive fields), "dt_ms", "full": v, "full_perturbed":
    {offset_pA: v}, "exports": {label: v}}, or None (with the reason under "skipped" in a
    dict) where the drive cannot be set up for this cell.
    """
    from reducer.isolated import run_isolated

    plan = SynapticDrive(drive=HELDOUT_DRIVE, seed=HELDOUT_SEED, delay_ms=50.0, dur_ms=dur_ms)
    try:
        plan.weights_uS(rheobase_nA, v_rest_mV)
    except ValueError as exc:
        return {"name": HELDOUT_NAME, "skipped": str(exc)}
    res = run_isolated("reducer.validate.synaptic:synaptic_worker", spec=spec,
                       export_dirs={k: str(v) for k, v in export_dirs.items()},
                       drives=[plan.to_dict()], rheobase_nA=rheobase_nA, v_rest_mV=v_rest_mV,
                       offsets_pA=list(offsets_pA), settle_ms=settle_ms)
    r = res["drives"][0]
    return {"name": HELDOUT_NAME, "drive": plan.to_dict(), "dt_ms": res["dt_ms"],
            "full": r["full"], "full_perturbed": r["full_perturbed"], "exports": r["exports"]}
