"""Speed of the reduced cell in a network: per-cell cost of N reduced cells simulated together.

Usage (after a ``reduce-cell`` run):

    python benchmarks/network_speed.py runs/ca1 [--cells 1,10,100] [--repeats 3]

A single reduced cell costs little more than NEURON's fixed work per time step, so timing it
alone (``neuron_speed.py``, the report) understates what it saves in a network, where that work
is shared. Here, in ONE NEURON process, on the run's held-out noisy protocol at fixed dt:

* the full cell alone (its own computation dominates: N of them cost N times as much),
* N reduced cells in one simulation, each on the protocol scaled by 0.9..1.1, wall time / N,
* the same N cells without their learned current (the soma-only floor), wall time / N.

Ratios are full / per-cell. Results go to ``<run>/network_benchmark.json`` (another export,
``--export DIR``: ``network_benchmark_<DIR name>.json``) and a Markdown table on stdout.
Nothing here is asserted: speed claims live here, not in tests.
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


def _counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--cells takes integers like 1,10,100: {exc}") from exc
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("--cells needs at least one count, each >= 1")
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a finished reduce-cell output folder")
    ap.add_argument("--cells", type=_counts, default=[1, 10, 100],
                    help="network sizes, comma-separated (default 1,10,100)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per timing (median)")
    ap.add_argument("--export", type=Path, default=None,
                    help="the export folder to time (default RUN/export; e.g. the exact-gate "
                         "export neuron_speed.py writes to RUN/benchmark_export_exact)")
    args = ap.parse_args()

    from mod_export.fileio import atomic_write_text
    from reducer.errors import ReduceCellError
    from reducer.isolated import run_isolated
    from reducer.pipeline import finished_run

    run = args.run.resolve()
    try:
        spec, info, _, protocol = finished_run(run)
    except ReduceCellError as exc:
        ap.error(str(exc))
    export = (args.export or run / "export").resolve()
    if not (export / "export.json").is_file():
        ap.error(f"{export} is not an export folder (no export.json)")
    res = run_isolated("reducer.validate.network:network_timing_worker", spec=spec,
                       export_dir=str(export), timing_protocol=protocol.to_dict(),
                       n_cells=args.cells, repeats_full=args.repeats, repeats=args.repeats)
    sim_s = res["simulated_ms"] / 1e3
    full = res["full_s"]
    for row in res["networks"]:
        row["speedup_vs_full"] = full / row["per_cell_s"]
    out = {**res, "cell": spec.name, "export": str(export), "dt_ms": info["dt_ms"],
           "repeats": args.repeats,
           "machine": {"platform": platform.platform(), "processor": platform.processor(),
                       "cpu_count": os.cpu_count()},
           "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    name = "network_benchmark.json" if export == run / "export" else \
        f"network_benchmark_{export.name}.json"
    atomic_write_text(run / name, json.dumps(out, indent=1))
    print(f"\n{spec.name}: '{protocol.name}', {res['simulated_ms']:.0f} ms simulated, dt "
          f"{info['dt_ms']} ms; export {export.name}; full cell ({res['n_segments_full']} "
          f"segments) alone: "
          f"{full:.3f} s ({full / sim_s:.3f} s per simulated s)\n")
    print("| cells | kind | wall time (s) | per cell (s per simulated s) | spikes per cell "
          "| speed-up vs full, per cell |")
    print("|---|---|---|---|---|---|")
    for row in res["networks"]:
        print(f"| {row['cells']} | {row['kind']} | {row['wall_s']:.3f} | "
              f"{row['per_cell_s'] / sim_s:.4f} | {row['spikes_per_cell']:.1f} | "
              f"{row['speedup_vs_full']:.0f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
