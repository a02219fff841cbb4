"""How far the full cell's own spikes move when its time step is made smaller.

Usage (after a ``reduce-cell`` run):

    python benchmarks/full_cell_timestep.py runs/ca1 [--factors 2,4]

The targets are the full cell at NEURON's fixed step ``dt`` (``data/targets.json``). This
script runs the full cell again on the run's held-out protocols at ``dt / k`` for each factor
k and compares its spike times (inside each stimulus window) with those at ``dt``: Γ(4 ms),
Γ(2 ms), spike counts and the largest shift between the i-th spikes. A held-out Γ measures
agreement with the reference at ``dt``; where the reference itself moves by a sizeable part of
Δ, Γ there also measures discretisation error. (The report's time-step check asks the same
of the reduced model.)

Every stimulus, Ornstein-Uhlenbeck noise included, is the same function of time at every
``dt`` (the noise is drawn on a fixed grid: :data:`reducer.protocols.OU_SAMPLE_MS`). A
held-out recording whose stored stimulus is not what its protocol gives now (noise at a
``dt`` off that grid, recorded before the grid existed) is listed under ``skipped``. The
simulations are stored under ``<run>/timestep/dt_<x>/`` and reused when the script is run
again; writes ``<run>/full_cell_timestep.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selfcheck import compare, heldout_references, load_recording, skipped_message  # noqa: E402

from mod_export.fileio import atomic_write_text  # noqa: E402
from reducer.errors import ReduceCellError  # noqa: E402
from reducer.protocols import ProtocolSet  # noqa: E402
from reducer.targets import generate_targets  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", type=Path, help="output folder of a finished reduce-cell run")
    p.add_argument("--factors", default="2,4",
                   help="divide the run's dt by each of these (comma-separated, default 2,4)")
    p.add_argument("--workers", type=int, default=2, help="NEURON processes (default 2)")
    args = p.parse_args(argv)
    try:
        factors = [float(x) for x in args.factors.split(",")]
    except ValueError:
        p.error(f"--factors must be numbers separated by commas, got {args.factors!r}")
    if not factors or any(not k > 1 for k in factors):
        p.error(f"every factor must be > 1, got {args.factors!r}")
    try:
        ref = heldout_references(args.run)
    except ReduceCellError as exc:
        p.error(str(exc))
    dt_ms, kept, skipped = ref["dt_ms"], ref["kept"], ref["skipped"]
    out = {"dt_ms": dt_ms, "skipped": skipped, "per_dt": []}
    for k in factors:
        dt_k = dt_ms / k
        folder = args.run / "timestep" / f"dt_{dt_k:g}"
        res = generate_targets(ref["spec"], ProtocolSet((), (), tuple(q for q, _ in kept)),
                               folder, dt_ms=dt_k, settle_ms=ref["settle_ms"],
                               n_workers=args.workers)
        rows = [{"name": q.name, **compare(q, spikes, load_recording(Path(path_k))[1])}
                for (q, spikes), path_k in zip(kept, res["splits"]["test"], strict=True)]
        out["per_dt"].append({"dt_ms": dt_k, "factor": k, "per_protocol": rows})
    print(f"\nfull cell at smaller time steps against itself at dt = {dt_ms:g} ms\n")
    print("| dt (ms) | protocol | Γ(4 ms) | Γ(2 ms) | spikes at dt / here | largest shift (ms) |")
    print("|---|---|---|---|---|---|")
    for e in out["per_dt"]:
        for r in e["per_protocol"]:
            g4, g2, sh = (("–" if x is None else f"{x:.2f}")
                          for x in (r["gamma_4ms"], r["gamma_2ms"], r["max_shift_ms"]))
            print(f"| {e['dt_ms']:g} | {r['name']} | {g4} | {g2} | {r['n_spikes_ref']} / "
                  f"{r['n_spikes_model']} | {sh} |")
    if skipped:
        print(skipped_message(skipped))
    atomic_write_text(args.run / "full_cell_timestep.json", json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
