"""Accuracy under synaptic input: the full and the reduced cell driven by the same synapses.

Usage (after a ``reduce-cell`` run):

    python benchmarks/synaptic_input.py runs/ca1 [--drives 1.5,2.5,3.5] [--seeds 0,1]
        [--duration-ms 1000] [--export DIR ...]

The model is trained and validated on injected current. In a network a cell is driven by
conductances instead. Here, in NEURON, Poisson excitation and inhibition (two ExpSyn at the
soma; see ``reducer/validate/synaptic.py``) drive the full cell and each export with identical event
times. ``--drives`` sets the mean synaptic current at rest in units of the rheobase (excitatory
and inhibitory conductance equal on average), one Poisson seed per ``--seeds`` entry. The
full cell is also run with the run's ``--sensitivity`` offsets (a constant ±current added):
how reproducible its own spike times are under this input.

Per condition: Γ(4 ms), Γ(2 ms), subthreshold and full-trace V RMSE, spike counts, and the
longest time each cell stays above -40 mV (a cell in depolarisation block stays there).
Writes ``<run>/synaptic_input.json`` and ``<run>/synaptic_input.png`` (the traces) and prints
a Markdown table.
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

def _numbers(kind):
    def parse(text: str) -> list:
        try:
            vals = [kind(x) for x in text.split(",") if x.strip()]
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"expected numbers like 1,2,3: {exc}") from exc
        if not vals or min(vals) < 0:
            raise argparse.ArgumentTypeError("need at least one value, each >= 0")
        return vals
    return parse


def _fmt(x, spec=".2f") -> str:
    return "–" if x is None else format(x, spec)


def _plot(path: Path, rows: list[dict], traces: list[dict], dt_ms: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), 1, figsize=(11, 2.2 * len(rows)), squeeze=False)
    for ax, row, tr in zip(axes[:, 0], rows, traces, strict=True):
        t = np.arange(len(tr["full"])) * dt_ms
        ax.plot(t, tr["full"], color="k", lw=0.7, label="full cell")
        for label, v in tr["exports"].items():
            ax.plot(np.arange(len(v)) * dt_ms, v, lw=0.7, label=label)
        ax.set_title(f"drive {row['drive']:g}× rheobase, seed {row['seed']}", fontsize=9)
        ax.set_ylabel("V (mV)")
        ax.legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("t (ms)")
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a finished reduce-cell output folder")
    ap.add_argument("--drives", type=_numbers(float), default=[1.5, 2.5, 3.5],
                    help="mean synaptic current at rest, in rheobases (default 1.5,2.5,3.5)")
    ap.add_argument("--seeds", type=_numbers(int), default=[0, 1],
                    help="Poisson seeds, each run at every drive (default 0,1)")
    ap.add_argument("--duration-ms", type=float, default=1000.0,
                    help="how long the input lasts (default 1000)")
    ap.add_argument("--export", type=Path, action="append", default=None,
                    help="an export folder to compare (repeatable; default RUN/export and "
                         "RUN/export_baseline)")
    args = ap.parse_args()

    from mod_export.fileio import atomic_write_text
    from reducer.errors import ReduceCellError
    from reducer.isolated import run_isolated
    from reducer.metrics import longest_depolarised_ms
    from reducer.pipeline import finished_run
    from reducer.protocols.synapses import SynapticDrive
    from reducer.targets import sensitivity_offsets_pA
    from reducer.validate.synaptic import STUCK_MS, compare_under_drive, stuck_depolarised

    run = args.run.resolve()
    try:
        spec, info, _, _ = finished_run(run)
    except ReduceCellError as exc:
        ap.error(str(exc))
    cal = json.loads((run / "calibration.json").read_text())
    exports = [e.resolve() for e in args.export] if args.export else \
        [p for p in (run / "export", run / "export_baseline") if p.is_dir()]
    for e in exports:
        if not (e / "export.json").is_file():
            ap.error(f"{e} is not an export folder (no export.json)")
    labels = {("reduced" if e == run / "export" else
               "baseline" if e == run / "export_baseline" else e.name): str(e) for e in exports}
    offsets = list(sensitivity_offsets_pA(info["options"].get("sensitivity", ()),
                                          cal["rheobase_nA"]))
    try:
        drives = [SynapticDrive(drive=d, seed=s, dur_ms=args.duration_ms)
                  for d in args.drives for s in args.seeds]
    except ValueError as exc:
        ap.error(str(exc))

    t0 = time.perf_counter()
    res = run_isolated("reducer.validate.synaptic:synaptic_worker", spec=spec, export_dirs=labels,
                       drives=[d.to_dict() for d in drives], rheobase_nA=cal["rheobase_nA"],
                       v_rest_mV=cal["v_rest_mV"], offsets_pA=offsets)
    dt = res["dt_ms"]
    rows, traces = [], []
    for plan, r in zip(drives, res["drives"], strict=True):
        t = np.arange(len(r["full"])) * dt
        window = plan.window_ms
        row = {"drive": plan.drive, "seed": plan.seed, "weights_uS": r["weights_uS"],
               "n_events": r["n_events"], "mean_g_uS": r["mean_g_uS"],
               "full_longest_depolarised_ms": longest_depolarised_ms(t, r["full"],
                                                                     window_ms=window),
               "exports": {k: compare_under_drive(t, r["full"], v, window)
                           for k, v in r["exports"].items()},
               "full_cell_perturbed": []}
        for off in offsets:
            pair = [compare_under_drive(t, r["full"], r["full_perturbed"][s * off], window)
                    for s in (-1.0, 1.0)]
            g = [p["gamma_4ms"] for p in pair if p["gamma_4ms"] is not None]
            row["full_cell_perturbed"].append(
                {"offset_pA": off, "gamma_4ms": float(np.mean(g)) if g else None,
                 "n_spikes": [p["n_spikes_model"] for p in pair]})
        rows.append(row)
        traces.append(r)

    out = {"cell": spec.name, "run": str(run), "dt_ms": dt, "exports": labels,
           "drive": {k: v for k, v in drives[0].to_dict().items()
                     if k not in ("drive", "seed")},
           "rheobase_nA": cal["rheobase_nA"], "v_rest_mV": cal["v_rest_mV"],
           "offsets_pA": offsets, "conditions": rows,
           "wall_s": time.perf_counter() - t0, "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    for label in labels:
        ok = [r["exports"][label]["gamma_4ms"] for r in rows]
        out.setdefault("mean", {})[label] = {
            "gamma_4ms": float(np.mean([g for g in ok if g is not None])) if any(
                g is not None for g in ok) else None,
            "n_gamma_4ms": sum(g is not None for g in ok),
            "n_conditions": len(rows),
            "n_blocked": sum(stuck_depolarised(r["full_longest_depolarised_ms"],
                                               r["exports"][label]["longest_depolarised_ms"])
                             for r in rows)}
    atomic_write_text(run / "synaptic_input.json", json.dumps(out, indent=1))
    _plot(run / "synaptic_input.png", rows, traces, dt)

    print(f"\n{spec.name}: somatic Poisson excitation {drives[0].exc_rate_hz:g} Hz "
          f"(tau {drives[0].tau_exc_ms:g} ms) and inhibition {drives[0].inh_rate_hz:g} Hz "
          f"(tau {drives[0].tau_inh_ms:g} ms), {args.duration_ms:g} ms, dt {dt} ms\n")
    self_cols = "".join(f" full ±{o:g} pA Γ(4 ms) |" for o in offsets)
    print("| drive (× rheobase) | seed | cell | Γ(4 ms) | Γ(2 ms) | subthreshold RMSE (mV) "
          "| V RMSE (mV) | spikes full / cell | longest above −40 mV (ms) |" + self_cols)
    print("|---" * (9 + len(offsets)) + "|")
    for r in rows:
        selfs = "".join(f" {_fmt(p['gamma_4ms'])} |" for p in r["full_cell_perturbed"])
        for label, m in r["exports"].items():
            print(f"| {r['drive']:g} | {r['seed']} | {label} | {_fmt(m['gamma_4ms'])} | "
                  f"{_fmt(m['gamma_2ms'])} | {_fmt(m['subthreshold_rmse_mV'])} | "
                  f"{_fmt(m['v_rmse_mV'], '.1f')} | {m['n_spikes_ref']} / "
                  f"{m['n_spikes_model']} | {m['longest_depolarised_ms']:.1f} "
                  f"(full {r['full_longest_depolarised_ms']:.1f}) |" + selfs)
    for label, m in out["mean"].items():
        print(f"\n{label}: mean Γ(4 ms) {_fmt(m['gamma_4ms'], '.3f')} over "
              f"{m['n_gamma_4ms']} of {m['n_conditions']} conditions; stuck depolarised "
              f"(> {STUCK_MS:g} ms above −40 mV where the full cell is not) in {m['n_blocked']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
