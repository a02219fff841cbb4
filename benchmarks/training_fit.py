"""Accuracy of a run's selected model on the traces it was fitted to (and on validation).

Usage (after a ``reduce-cell`` run):

    python benchmarks/training_fit.py runs/ca1

The paper's 3.5 mV voltage RMSE was measured on its own training trace; ``metrics.json``
reports held-out protocols only. This script gives the comparable number: the hybrid model is
simulated closed loop in JAX (the exported NEURON mechanism agrees with it to ~1e-7 mV, see
``metrics.json`` ``jax_vs_neuron``) on every training and validation protocol of the run, and
compared with the full cell. Writes ``<run>/training_fit.json`` and prints a table.

Protocols that hold the soma (somatic voltage clamp, ``holds``) are left out and listed under
``skipped``: replaying a clamp's current into another cell is not a current-clamp protocol.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mod_export.fileio import atomic_write_text  # noqa: E402
from reducer.errors import ReduceCellError  # noqa: E402
from reducer.hybrid.cell import HybridCell  # noqa: E402
from reducer.hybrid.model_io import load_model  # noqa: E402
from reducer.nmodl2jax import build_membrane  # noqa: E402
from reducer.pipeline import require_run_files  # noqa: E402
from reducer.targets import Dataset  # noqa: E402
from reducer.train import closed_loop_metrics, pad_dataset  # noqa: E402

KEYS = ("v_rmse_mV", "subthreshold_rmse_mV", "gamma_4ms", "gamma_2ms", "n_spikes_ref",
        "n_spikes_model")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", type=Path, help="output folder of a finished reduce-cell run")
    args = p.parse_args(argv)
    try:
        require_run_files(args.run, ("data/targets.json", "train/final/axial_model.json"),
                          "train")
    except ReduceCellError as exc:
        p.error(str(exc))
    targets = json.loads((args.run / "data" / "targets.json").read_text())
    soma = targets["soma"]
    dt_ms = float(targets["meta"]["dt_ms"])
    model, _ = load_model(args.run / "train" / "final")
    cell = HybridCell.for_soma(model, build_membrane(soma), soma)
    out = {}
    for split in ("train", "validation"):
        ds, skipped = Dataset.load([Path(f) for f in targets["splits"][split]]).free_running()
        ev = closed_loop_metrics(cell, pad_dataset(ds), dt_ms)
        out[split] = {"mean": {k: ev["summary"].get(k) for k in KEYS}, "skipped": skipped,
                      "per_protocol": [{"name": r["name"], **{k: r.get(k) for k in KEYS}}
                                       for r in ev["per_protocol"]]}
        print(f"\n{split}\n\n| protocol | V RMSE (mV) | subthreshold RMSE (mV) | Γ(4 ms) | "
              "spikes full / model |\n|---|---|---|---|---|")
        for r in out[split]["per_protocol"] + [{"name": "**mean**", **out[split]["mean"]}]:
            g = r["gamma_4ms"]
            g = "–" if g is None or g != g else f"{g:.3f}"
            print(f"| {r['name']} | {r['v_rmse_mV']:.2f} | {r['subthreshold_rmse_mV']:.2f} | {g} "
                  f"| {r['n_spikes_ref']} / {r['n_spikes_model']} |")
        if skipped:
            print(f"\n(left out, the soma is held: {', '.join(skipped)})")
    atomic_write_text(args.run / "training_fit.json", json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
