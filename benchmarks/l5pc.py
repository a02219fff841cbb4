"""A layer-5 pyramidal cell side by side: full cell, reduced cell and linear baseline in NEURON.

Usage (after ``reduce-cell`` runs, e.g. on ``models/l5pc`` and on the published Hay et al.
2011 files):

    python benchmarks/l5pc.py runs/l5pc [/path/to/hay_run ...] [--out l5pc_benchmark.json]

For each finished run folder, on stimuli no run trains on or selects with:

* 2-s somatic steps of 0.3, 0.6, 0.9, 1.2 and 1.5 nA: firing rate, first-spike latency,
  subthreshold RMSE and rest, full vs reduced (and vs the linear filter-bank baseline);
* Ornstein-Uhlenbeck currents at three means / SDs (new seeds) and somatic synaptic drive at
  two strengths (new event seeds): Γ at ±4 and ±2 ms;
* wall time of the full cell, the reduced cell and the baseline on the 1.2-nA step, in one
  NEURON process (the reduced cells one at a time, each alone in it), and the ratios;
* the full cell against itself with ±1 % of its rheobase added to every stimulus
  (``--intrinsic-pct``): its own Γ on the fluctuating inputs (and Γ / Γ_intrinsic, the ratio
  of the means, as reduce-cell's report gives it), and its own rate change, latency shift and
  subthreshold RMSE on the steps — how much of an error the cell itself makes of a current
  about that small, beside each reduced-cell number.

The full cell's traces are simulated here too (cached under ``<run>/benchmark_l5pc/``).
Nothing is asserted; the numbers go to the JSON file and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")

STEP_AMPS_nA = (0.3, 0.6, 0.9, 1.2, 1.5)
STEP_DELAY_ms, STEP_DUR_ms, STEP_TAIL_ms = 200.0, 2000.0, 200.0
TIMING_AMP_nA = 1.2
# (mean, SD) in rheobases, correlation time, seed: none of these seeds is a training seed.
OU_SET = ((0.8, 0.6, 3.0, 9001), (1.2, 0.4, 5.0, 9002), (1.6, 0.9, 2.0, 9003))
OU_DELAY_ms, OU_DUR_ms = 100.0, 1900.0
SYN_SET = ((2.0, 7), (3.0, 8))  # drive (rheobases), event seed
SYN_DUR_ms = 1500.0
INTRINSIC_PCT_RHEOBASE = 1.0  # the offset of the full cell's runs against itself


def _protocols(rheobase_nA: float):
    from reducer.protocols import Protocol

    steps = [Protocol(f"l5_step_{a:.1f}nA", "step", STEP_DELAY_ms + STEP_DUR_ms + STEP_TAIL_ms,
                      {"delay_ms": STEP_DELAY_ms, "dur_ms": STEP_DUR_ms, "amp_nA": a})
             for a in STEP_AMPS_nA]
    ous = [Protocol(f"l5_ou_{m:g}R_sd{s:g}R", "ou_noise", OU_DELAY_ms + OU_DUR_ms + 100.0,
                    {"delay_ms": OU_DELAY_ms, "dur_ms": OU_DUR_ms, "mean_nA": m * rheobase_nA,
                     "sigma_nA": s * rheobase_nA, "tau_ms": tau, "seed": seed})
           for m, s, tau, seed in OU_SET]
    return steps, ous


def _first_latency_ms(spikes: np.ndarray, onset_ms: float) -> float:
    after = spikes[spikes >= onset_ms]
    return float(after[0] - onset_ms) if after.size else float("nan")


def _trimmed(v_full: np.ndarray, v_model: np.ndarray, dt_ms: float):
    """Times and both traces over their common length (a diverged run may end early)."""
    n = min(len(v_full), len(v_model))
    return np.arange(n) * dt_ms, v_full[:n], v_model[:n]


def _step_row(t, v_full, v_model, amp_nA: float) -> dict:
    from reducer.metrics import compare_traces, spike_times

    m = compare_traces(t, v_full, v_model, (STEP_DELAY_ms, STEP_DELAY_ms + STEP_DUR_ms))
    sf, sm = spike_times(t, v_full), spike_times(t, v_model)
    rf, rm = m["rate_ref_hz"], m["rate_model_hz"]
    pre = t < STEP_DELAY_ms - 1.0
    return {"amp_nA": amp_nA, "rate_full_hz": rf, "rate_model_hz": rm,
            "rate_rel_error": (rm - rf) / rf if rf > 0 else (0.0 if rm == 0 else float("inf")),
            "latency_full_ms": _first_latency_ms(sf, STEP_DELAY_ms),
            "latency_model_ms": _first_latency_ms(sm, STEP_DELAY_ms),
            "subthreshold_rmse_mV": m["subthreshold_rmse_mV"],
            "rest_full_mV": float(np.mean(v_full[pre])),
            "rest_model_mV": float(np.mean(v_model[pre])),
            "gamma_4ms": m["gamma_4ms"], "n_spikes_full": m["n_spikes_ref"],
            "n_spikes_model": m["n_spikes_model"]}


def _mean_finite(xs) -> float:
    v = [float(x) for x in xs if x is not None and np.isfinite(x)]
    return float(np.mean(v)) if v else float("nan")


def bench_run(run: Path, intrinsic_pct: float = INTRINSIC_PCT_RHEOBASE) -> dict:
    """Every number of this benchmark for one finished run folder."""
    from reducer.isolated import run_isolated
    from reducer.metrics import compare_traces
    from reducer.pipeline import finished_run
    from reducer.protocols import Protocol, SynapticDrive
    from reducer.targets import (
        sensitivity_jobs,
        sensitivity_offsets_pA,
        sensitivity_path,
        simulate_jobs,
    )
    from reducer.validate.heldout import run_validation
    from reducer.validate.synaptic import compare_under_drive

    spec, info, _, _ = finished_run(run)
    cal = json.loads((run / "calibration.json").read_text())
    targets = json.loads((run / "data" / "targets.json").read_text())
    r = float(cal["rheobase_nA"])
    v_rest = float(targets["meta"]["v_rest_mV"])
    dt = float(info["dt_ms"])
    steps, ous = _protocols(r)
    protocols = steps + ous
    out_dir = run / "benchmark_l5pc"
    out_dir.mkdir(exist_ok=True)
    jobs = [{"protocol": p.to_dict(), "path": str(out_dir / f"full_{p.name}.npz")}
            for p in protocols]
    # The run's own sensitivity offsets are sized and stored the same way.
    sizes_pA = sensitivity_offsets_pA((f"{intrinsic_pct:g}%",), r)
    off_pA = sizes_pA[0] if sizes_pA else 0.0
    offsets = (off_pA, -off_pA) if off_pA else ()
    jobs += sensitivity_jobs(protocols, sizes_pA, out_dir)
    simulate_jobs(spec, jobs, dt, settle_ms=500.0)
    full = {p.name: np.load(out_dir / f"full_{p.name}.npz")["v_soma_mV"] for p in protocols}
    own = {p.name: [np.load(sensitivity_path(out_dir, p.name, o))["v_soma_mV"]
                    for o in offsets] for p in protocols}

    exports = {"reduced": run / "export", "baseline": run / "export_baseline"}
    timing = Protocol("l5_timing_step", "step", STEP_DELAY_ms + STEP_DUR_ms + STEP_TAIL_ms,
                      {"delay_ms": STEP_DELAY_ms, "dur_ms": STEP_DUR_ms, "amp_nA": TIMING_AMP_nA})
    res = run_validation(spec, exports, protocols, timing, repeats_full=3, repeats_reduced=7)

    plans = [SynapticDrive(drive=d, seed=s, dur_ms=SYN_DUR_ms) for d, s in SYN_SET]
    syn = run_isolated("reducer.validate.synaptic:synaptic_worker", spec=spec,
                       export_dirs={k: str(v) for k, v in exports.items()},
                       drives=[p.to_dict() for p in plans], rheobase_nA=r, v_rest_mV=v_rest,
                       offsets_pA=[off_pA] if off_pA else [], settle_ms=500.0)

    # The full cell against itself: the same measures, the perturbed full cell as the
    # "model"; each number is the mean over the + and - offset runs of its size.
    def own_step(p):
        rows = [_step_row(*_trimmed(full[p.name], v, dt), p.params["amp_nA"])
                for v in own[p.name]]
        return {"amp_nA": p.params["amp_nA"],
                "rate_rel_change": _mean_finite(abs(x["rate_rel_error"]) for x in rows),
                "latency_shift_ms": _mean_finite(abs(x["latency_model_ms"] - x["latency_full_ms"])
                                                 for x in rows),
                "subthreshold_rmse_mV": _mean_finite(x["subthreshold_rmse_mV"] for x in rows),
                "gamma_4ms": _mean_finite(x["gamma_4ms"] for x in rows)}

    def own_mean(name, ms):
        return {"protocol": name, **{k: _mean_finite(m.get(k) for m in ms)
                                     for k in ("gamma_4ms", "gamma_2ms")}}

    intrinsic = None
    if off_pA:
        own_steps = [own_step(p) for p in steps]
        own_fluct = [own_mean(p.name, [compare_traces(*_trimmed(full[p.name], v, dt),
                                                      (OU_DELAY_ms, OU_DELAY_ms + OU_DUR_ms))
                                       for v in own[p.name]]) for p in ous]
        own_fluct += [own_mean(f"synaptic_{plan.drive:g}R_seed{plan.seed}",
                               [compare_under_drive(*_trimmed(d["full"], v, syn["dt_ms"]),
                                                    plan.window_ms)
                                for v in d["full_perturbed"].values()])
                      for plan, d in zip(plans, syn["drives"], strict=True)]
        intrinsic = {
            "offset_pA": off_pA, "offset_pct_rheobase": intrinsic_pct,
            "steps": own_steps, "fluctuating": own_fluct,
            "fluctuating_mean_gamma_4ms": _mean_finite(x["gamma_4ms"] for x in own_fluct),
            "max_rate_rel_change": max((x["rate_rel_change"] for x in own_steps
                                        if np.isfinite(x["rate_rel_change"])),
                                       default=float("nan")),
            "max_latency_shift_ms": max((x["latency_shift_ms"] for x in own_steps
                                         if np.isfinite(x["latency_shift_ms"])),
                                        default=float("nan")),
            "max_subthreshold_rmse_mV": max(x["subthreshold_rmse_mV"] for x in own_steps),
        }

    models: dict[str, dict] = {}
    for label in exports:
        tr = res["traces"][label]
        rows_steps, rows_fluct = [], []
        for p in steps:
            rows_steps.append(_step_row(*_trimmed(full[p.name], tr[p.name]["v_mV"], dt),
                                        p.params["amp_nA"]))
        for p in ous:
            m = compare_traces(*_trimmed(full[p.name], tr[p.name]["v_mV"], dt),
                               (OU_DELAY_ms, OU_DELAY_ms + OU_DUR_ms))
            rows_fluct.append({"protocol": p.name, **{k: m[k] for k in (
                "gamma_4ms", "gamma_2ms", "subthreshold_rmse_mV", "n_spikes_ref",
                "n_spikes_model")}})
        for plan, d in zip(plans, syn["drives"], strict=True):
            m = compare_under_drive(*_trimmed(d["full"], d["exports"][label], syn["dt_ms"]),
                                    plan.window_ms)
            rows_fluct.append({"protocol": f"synaptic_{plan.drive:g}R_seed{plan.seed}",
                               **{k: m.get(k) for k in ("gamma_4ms", "gamma_2ms",
                                                        "n_spikes_ref", "n_spikes_model")}})
        g4 = [x["gamma_4ms"] for x in rows_fluct if x["gamma_4ms"] is not None
              and np.isfinite(x["gamma_4ms"])]
        fired = [x for x in rows_steps if x["rate_full_hz"] > 0]
        models[label] = {
            "steps": rows_steps, "fluctuating": rows_fluct,
            "fluctuating_mean_gamma_4ms": float(np.mean(g4)) if g4 else float("nan"),
            "max_rate_rel_error": max((abs(x["rate_rel_error"]) for x in fired),
                                      default=float("nan")),
            "max_latency_error_ms": max((abs(x["latency_model_ms"] - x["latency_full_ms"])
                                         for x in fired), default=float("nan")),
            "rest_error_mV": float(np.mean([x["rest_model_mV"] - x["rest_full_mV"]
                                            for x in rows_steps])),
            "max_subthreshold_rmse_mV": max(x["subthreshold_rmse_mV"] for x in rows_steps),
            "wall_s": res["timing"].get(f"{label}_s"),
            "speedup": res["timing"]["full_s"] / res["timing"][f"{label}_s"],
        }
        if intrinsic is not None:
            g, g_own = (models[label]["fluctuating_mean_gamma_4ms"],
                        intrinsic["fluctuating_mean_gamma_4ms"])
            models[label]["normalised_gamma_4ms"] = g / g_own if g_own > 0 else float("nan")
    return {"run": str(run), "cell": spec.name, "rheobase_nA": r, "v_rest_mV": v_rest,
            "n_segments_full": res["n_segments_full"], "timing_protocol": timing.name,
            "full_s": res["timing"]["full_s"], "soma_only_s": res["timing"]["soma_only_s"],
            "floor_speedup": res["timing"]["full_s"] / res["timing"]["soma_only_s"],
            "models": models, "intrinsic": intrinsic, "diverged": res.get("diverged", {})}


def _fmt(x, spec: str = "{:.3f}") -> str:
    return "–" if x is None or not np.isfinite(x) else spec.format(x)


def _print(b: dict) -> None:
    print(f"\n### {b['cell']} ({b['run']}): {b['n_segments_full']} segments, rheobase "
          f"{b['rheobase_nA']:.4f} nA, rest {b['v_rest_mV']:.2f} mV\n")
    own = b.get("intrinsic")
    red, base = b["models"]["reduced"], b["models"]["baseline"]
    own_head = (f" full ±{own['offset_pA']:g} pA vs full: rate change / latency shift / "
                "sub-RMSE |") if own else ""
    print("| amp (nA) | rate full (Hz) | reduced | baseline | latency full (ms) | reduced | "
          f"baseline | sub-RMSE reduced / baseline (mV) |{own_head}")
    print("|---|---|---|---|---|---|---|---|" + ("---|" if own else ""))
    own_steps = own["steps"] if own else [None] * len(red["steps"])
    for a, c, o in zip(red["steps"], base["steps"], own_steps, strict=True):
        tail = (f" {_fmt(o['rate_rel_change'], '{:.1%}')} / "
                f"{_fmt(o['latency_shift_ms'], '{:.2f} ms')} / "
                f"{_fmt(o['subthreshold_rmse_mV'], '{:.2f} mV')} |") if o else ""
        print(f"| {a['amp_nA']:.1f} | {a['rate_full_hz']:.2f} | {a['rate_model_hz']:.2f} | "
              f"{c['rate_model_hz']:.2f} | {a['latency_full_ms']:.2f} | "
              f"{a['latency_model_ms']:.2f} | {c['latency_model_ms']:.2f} | "
              f"{a['subthreshold_rmse_mV']:.2f} / {c['subthreshold_rmse_mV']:.2f} |{tail}")
    print("\n| fluctuating input | Γ(4 ms) reduced | baseline | Γ(2 ms) reduced | baseline | "
          "spikes full / reduced / baseline |" + (" Γ(4 ms) / Γ(2 ms) full vs itself |"
                                                   if own else ""))
    print("|---|---|---|---|---|---|" + ("---|" if own else ""))
    own_fl = own["fluctuating"] if own else [None] * len(red["fluctuating"])
    for a, c, o in zip(red["fluctuating"], base["fluctuating"], own_fl, strict=True):
        tail = f" {_fmt(o['gamma_4ms'])} / {_fmt(o['gamma_2ms'])} |" if o else ""
        print(f"| {a['protocol']} | {_fmt(a['gamma_4ms'])} | {_fmt(c['gamma_4ms'])} | "
              f"{_fmt(a['gamma_2ms'])} | {_fmt(c['gamma_2ms'])} | {a['n_spikes_ref']} / "
              f"{a['n_spikes_model']} / {c['n_spikes_model']} |{tail}")
    print("\n| | reduced | baseline |" + (" full vs itself |" if own else "")
          + "\n|---|---|---|" + ("---|" if own else ""))
    own_keys = {"fluctuating_mean_gamma_4ms": "fluctuating_mean_gamma_4ms",
                "max_rate_rel_error": "max_rate_rel_change",
                "max_latency_error_ms": "max_latency_shift_ms",
                "max_subthreshold_rmse_mV": "max_subthreshold_rmse_mV"}
    for key, fmt in (("fluctuating_mean_gamma_4ms", "{:.3f}"),
                     ("normalised_gamma_4ms", "{:.3f}"), ("max_rate_rel_error", "{:.1%}"),
                     ("max_latency_error_ms", "{:.2f} ms"), ("rest_error_mV", "{:+.2f} mV"),
                     ("max_subthreshold_rmse_mV", "{:.2f} mV"), ("wall_s", "{:.3f} s"),
                     ("speedup", "{:.1f}×")):
        if key not in red:
            continue
        tail = ""
        if own:
            tail = f" {_fmt(own[own_keys[key]], fmt)} |" if key in own_keys else " |"
        print(f"| {key} | {_fmt(red[key], fmt)} | {_fmt(base[key], fmt)} |{tail}")
    print(f"\nfull cell {b['full_s']:.3f} s on '{b['timing_protocol']}'; soma-only floor "
          f"{b['floor_speedup']:.1f}×")
    if own:
        print(f"full vs itself: the full cell with ±{own['offset_pA']:g} pA "
              f"({own['offset_pct_rheobase']:g} % of its rheobase) added, against itself; "
              "normalised_gamma_4ms = reduced mean Γ(4 ms) / that mean")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", type=Path, nargs="+", help="finished reduce-cell output folders")
    ap.add_argument("--out", type=Path, default=Path("l5pc_benchmark.json"))
    ap.add_argument("--intrinsic-pct", type=float, default=INTRINSIC_PCT_RHEOBASE,
                    help="offset (%% of the rheobase) of the full cell's runs against itself; "
                         "0: skip them (default: %(default)g)")
    args = ap.parse_args()
    if not (np.isfinite(args.intrinsic_pct) and args.intrinsic_pct >= 0):
        ap.error(f"--intrinsic-pct must be >= 0, got {args.intrinsic_pct:g}")

    from mod_export.fileio import atomic_write_text
    from reducer.errors import ReduceCellError

    results = []
    for run in args.runs:
        try:
            b = bench_run(run.resolve(), args.intrinsic_pct)
        except ReduceCellError as exc:
            print(f"{run}: {exc}", file=sys.stderr)
            return 1
        results.append(b)
        _print(b)
    atomic_write_text(args.out, json.dumps({"date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                            "runs": results}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
