"""How precisely a reduced model's current must be right for each held-out Γ to be reachable.

Usage (after a ``reduce-cell`` run):

    python benchmarks/full_cell_sensitivity.py runs/ca1 [--offsets 0.1pA,0.3pA,1pA,3pA]

The full cell is run again on the run's held-out protocols with a constant current of +x and
-x added to the stimulus, for each size x (in pA, or in % of the rheobase: ``1%``), and its
spikes are compared with its own held-out recordings (inside each stimulus window): Γ(4 ms),
Γ(2 ms), spike counts and the largest shift between the i-th spikes, each averaged over the
two signs; Γ(4 ms) also averaged over the protocols. For each protocol the table gives the
largest size up to which the full cell keeps Γ(4 ms) >= ``--min-gamma`` (0.85) against
itself: a reduced cell whose current is off by more than that cannot be expected to reach it
there, however good it is otherwise. The reduced cell's own Γ(4 ms) (``metrics.json``) is
printed beside it when the run has one.

The run itself does this for two sizes (``reduce-cell --sensitivity``, default 0.3 % and 1 %
of the rheobase); this script scans others without running the pipeline again. The
simulations are stored under ``<run>/sensitivity_scan/`` and reused when the script is run
again; writes ``<run>/full_cell_sensitivity.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selfcheck import compare, heldout_references, load_recording, skipped_message  # noqa: E402

from mod_export.fileio import atomic_write_text  # noqa: E402
from reducer.errors import ReduceCellError  # noqa: E402
from reducer.targets import (  # noqa: E402
    parse_sensitivity,
    sensitivity_jobs,
    sensitivity_offsets_pA,
    sensitivity_path,
    simulate_jobs,
)


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def tolerance_pA(rows: list[dict[str, Any]], min_gamma: float) -> float | None:
    """The largest offset size of ``rows`` (ascending sizes) up to which every Γ(4 ms) is at
    least ``min_gamma``; 0 if the smallest already falls short; None where Γ is undefined at
    the smallest (no spikes). An undefined Γ at a larger size (above 125 Hz for Δ = 4 ms)
    ends the range like a low one. (The largest size tried when none falls short: the true
    tolerance may be larger.)"""
    if not rows or rows[0]["gamma_4ms"] is None:
        return None
    best = 0.0
    for r in rows:
        if r["gamma_4ms"] is None or r["gamma_4ms"] < min_gamma:
            break
        best = r["offset_pA"]
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", type=Path, help="output folder of a finished reduce-cell run")
    p.add_argument("--offsets", default="0.1pA,0.3pA,1pA,3pA",
                   help="offset sizes, comma-separated, each in pA (0.3pA) or in %% of the "
                        "rheobase (1%%); each is added with both signs (default "
                        "0.1pA,0.3pA,1pA,3pA)")
    p.add_argument("--min-gamma", type=float, default=0.85,
                   help="the Γ(4 ms) the tolerance is read at (default 0.85)")
    p.add_argument("--workers", type=int, default=2, help="NEURON processes (default 2)")
    args = p.parse_args(argv)
    try:
        entries = parse_sensitivity(args.offsets)
    except ValueError as exc:
        p.error(f"--offsets: {exc}")
    if not entries:
        p.error("--offsets needs at least one size above 0")
    try:
        ref = heldout_references(args.run)
    except ReduceCellError as exc:
        p.error(str(exc))
    rheobase_nA = None
    cal_path = args.run / "calibration.json"
    if cal_path.is_file():
        rheobase_nA = json.loads(cal_path.read_text()).get("rheobase_nA")
    if rheobase_nA is None and any(e.endswith("%") for e in entries):
        p.error(f"{args.run} has no calibration.json with a rheobase: give the offsets in pA")
    sizes = sensitivity_offsets_pA(entries, rheobase_nA or 0.0)
    folder = args.run / "sensitivity_scan"
    kept = ref["kept"]
    simulate_jobs(ref["spec"], sensitivity_jobs([q for q, _ in kept], sizes, folder),
                  ref["dt_ms"], ref["settle_ms"], args.workers)
    reduced: dict[str, Any] = {}
    metrics_path = args.run / "metrics.json"
    if metrics_path.is_file():
        per = json.loads(metrics_path.read_text()).get("heldout", {}).get("per_protocol", [])
        reduced = {m["name"]: m.get("gamma_4ms") for m in per}
    out: dict[str, Any] = {"dt_ms": ref["dt_ms"], "rheobase_nA": rheobase_nA,
                           "offsets_pA": list(sizes), "min_gamma_4ms": args.min_gamma,
                           "skipped": ref["skipped"], "per_protocol": []}
    for q, spikes in kept:
        rows, n_ref = [], 0
        for size in sizes:
            pair = [compare(q, spikes, load_recording(sensitivity_path(folder, q.name, s))[1])
                    for s in (-size, size)]
            n_ref = pair[0]["n_spikes_ref"]  # the reference's spikes in the stimulus window
            shifts = [r["max_shift_ms"] for r in pair if r["max_shift_ms"] is not None]
            rows.append({"offset_pA": size, "offsets_pA": [-size, size],
                         "gamma_4ms": _mean([r["gamma_4ms"] for r in pair]),
                         "gamma_2ms": _mean([r["gamma_2ms"] for r in pair]),
                         "n_spikes": [r["n_spikes_model"] for r in pair],
                         "max_shift_ms": max(shifts) if shifts else None})
        out["per_protocol"].append({
            "name": q.name, "n_spikes": int(n_ref),
            "per_offset": rows, "tolerance_pA": tolerance_pA(rows, args.min_gamma),
            "reduced_gamma_4ms": reduced.get(q.name)})
    # what the held-out mean allows a model whose current is right to within each size
    out["mean_gamma_4ms"] = [_mean([e["per_offset"][k]["gamma_4ms"] for e in out["per_protocol"]])
                             for k in range(len(sizes))]
    reached = [e["reduced_gamma_4ms"] for e in out["per_protocol"]
               if e["per_offset"][0]["gamma_4ms"] is not None]
    out["reduced_mean_gamma_4ms"] = _mean(reached)
    _print_table(out)
    atomic_write_text(args.run / "full_cell_sensitivity.json", json.dumps(out, indent=1))
    return 0


def _fmt(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _print_table(out: dict[str, Any]) -> None:
    sizes = out["offsets_pA"]
    r = out["rheobase_nA"]
    head = [f"±{s:g} pA" + (f" ({100 * s * 1e-3 / r:.2g} %)" if r else "") for s in sizes]
    print("\nfull cell against itself with a constant current added: Γ(4 ms)\n")
    print("| protocol | spikes | " + " | ".join(head) + f" | keeps Γ ≥ {out['min_gamma_4ms']:g} "
          "up to (pA) | reduced cell Γ(4 ms) |")
    print("|---|---|" + "---|" * len(sizes) + "---|---|")
    for e in out["per_protocol"]:
        cells = [_fmt(row["gamma_4ms"]) for row in e["per_offset"]]
        tol = e["tolerance_pA"]
        if tol is None:
            tol_text = "–"
        elif tol == 0:
            tol_text = f"< {sizes[0]:g}"
        else:  # at the largest size: no offset tried breaks it
            tol_text = f"≥ {tol:g}" if tol == sizes[-1] else f"{tol:g}"
        print(f"| {e['name']} | {e['n_spikes']} | " + " | ".join(cells)
              + f" | {tol_text} | {_fmt(e['reduced_gamma_4ms'])} |")
    print("| **mean** | | " + " | ".join(_fmt(g) for g in out["mean_gamma_4ms"])
          + f" | | {_fmt(out['reduced_mean_gamma_4ms'])} |")
    if out["skipped"]:
        print(skipped_message(out["skipped"]))


if __name__ == "__main__":
    raise SystemExit(main())
