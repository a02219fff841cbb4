"""Speed of the reduced cell in NEURON (and of the JAX model), measured side by side.

Usage (after a ``reduce-cell`` run):

    python benchmarks/neuron_speed.py runs/ca1_n120 [--repeats-full 5] [--repeats-reduced 15]

In ONE NEURON process, one cell at a time (each timing sees only its own sections), on the
run's held-out noisy protocol, fixed dt, ``finitialize`` + ``continuerun``, median of repeats:

* the full cell,
* the exported reduced cell (NMODL TABLE gates by default) and the same model exported the
  other way (exact z_inf/tau at every step, or TABLE if the run used ``--exact-gates``),
* the exported linear filter-bank baseline,
* the soma-only floor (reduced soma, same channels, no learned current);

plus the JAX hybrid model (jitted, CPU, same protocol). Ratios are full / reduced. Results go to
``<run>/benchmark.json`` and a Markdown table on stdout. Nothing here is asserted: speed claims
live here, not in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a finished reduce-cell output folder")
    ap.add_argument("--repeats-full", type=int, default=5)
    ap.add_argument("--repeats-reduced", type=int, default=15)
    args = ap.parse_args()

    from mod_export import export_reduced_cell
    from mod_export.fileio import atomic_write_text
    from reducer.errors import ReduceCellError
    from reducer.hybrid import as_exported, load_model
    from reducer.hybrid.cell import HybridCell
    from reducer.nmodl2jax import build_membrane
    from reducer.pipeline import finished_run
    from reducer.validate.heldout import run_validation, time_jax

    run = args.run.resolve()
    try:
        spec, info, _, protocol = finished_run(run)
    except ReduceCellError as exc:
        ap.error(str(exc))
    targets = json.loads((run / "data" / "targets.json").read_text())
    model, _ = load_model(run / "train" / "final")
    exports = {"reduced": run / "export", "baseline": run / "export_baseline"}
    # The run's export has TABLE gates (the default) or exact ones (--exact-gates); the other
    # variant of the same model is exported here, so both are timed side by side.
    info_export = json.loads((run / "export" / "export.json").read_text())
    tabulated = bool(info_export.get("use_table"))
    other = "reduced_exact" if tabulated else "reduced_table"
    other_dir = run / ("benchmark_export_exact" if tabulated else "benchmark_export_table")
    if not (other_dir / "export.json").exists():
        export_reduced_cell(model, targets["soma"], other_dir, cell_name=spec.name,
                            v_init_mV=targets["meta"]["v_rest_mV"], dt_ms=info["dt_ms"],
                            use_table=not tabulated)
    exports[other] = other_dir

    res = run_validation(spec, exports, [], protocol, args.repeats_full, args.repeats_reduced)
    tm = res["timing"]
    soma = targets["soma"]
    cell = HybridCell.for_soma(as_exported(model, info_export.get("table")), build_membrane(soma),
                               soma)
    jax_s = time_jax(cell, protocol, info["dt_ms"], targets["meta"]["v_rest_mV"], repeats=5)

    exact_s, table_s = ((tm["reduced_exact_s"], tm["reduced_s"]) if tabulated
                        else (tm["reduced_s"], tm["reduced_table_s"]))
    rows = [("full cell", tm["full_s"]), ("reduced (NMODL TABLE gates)", table_s),
            ("reduced (exact gates)", exact_s),
            ("linear baseline (10 states)", tm["baseline_s"]),
            ("soma-only floor", tm["soma_only_s"]), ("JAX hybrid (CPU, jitted)", jax_s)]
    sim_s = res["simulated_ms"] / 1e3
    out = {
        "cell": spec.name, "protocol": protocol.name, "simulated_ms": res["simulated_ms"],
        "dt_ms": info["dt_ms"], "n_segments_full": res["n_segments_full"],
        "repeats_full": args.repeats_full, "repeats_reduced": args.repeats_reduced,
        "run_export_gates": "NMODL TABLE" if tabulated else "exact",
        "timings_s": {name: t for name, t in rows},
        "speedup_vs_full": {name: tm["full_s"] / t for name, t in rows},
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    atomic_write_text(run / "benchmark.json", json.dumps(out, indent=1))
    print(f"\n{spec.name}: '{protocol.name}', {res['simulated_ms']:.0f} ms simulated, dt "
          f"{info['dt_ms']} ms, full cell {res['n_segments_full']} segments\n")
    print(f"(the run's own export has {out['run_export_gates']} gates)\n")
    print("| simulation | wall time (s) | s per simulated s | speed-up vs full |")
    print("|---|---|---|---|")
    for name, t in rows:
        print(f"| {name} | {t:.4f} | {t / sim_s:.4f} | {tm['full_s'] / t:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
