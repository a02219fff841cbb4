"""Would a small conductance added to a trained model fix its near-threshold timing?

Usage (after a ``reduce-cell`` run on a cell with the default protocol set):

    python benchmarks/conductance_trim.py runs/ca1 [runs/ca1_s1 ...] [--grid-nS -1,0.5,0.05]

A diagnostic of the idea behind the pipeline's trim (``reducer.train.trim``, which since
48b87c3 chooses dg on every spiking training and validation step with a relative count cost);
this script keeps the near-threshold rule it first measured (on a run trained with the trim,
``train/final`` is already trimmed and the scan measures a trim on top). For each run the kept
model (``train/final``) gets a linear conductance trim ``I_trim = -dg (V - V_rest)`` folded
into its linear readout (``w_u``, ``bias_nA``), so the rest and the exported mechanism's form
are unchanged. ``dg`` is chosen on the grid from the run's *training and validation*
depolarising steps only (1.1R, 1.2R, 1.3R, 1.5R): the cost is 2 per spike of count error plus
the first-spike latency error in ms, summed. The held-out f-I steps, the 1.15R step, the
fluctuating inputs and the subthreshold steps are then scored in the JAX closed loop (the same
model as the TABLE export to 1e-10 ms) without and with the chosen trim. Nothing is written.

Why: on the CA1 cell the near-threshold first spike of most seeds is late by 1-3 ms, and the
validation 1.2R step shows the same error as the held-out f-I step at 1.2R.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from reducer import metrics  # noqa: E402
from reducer.hybrid import HybridCell, load_model  # noqa: E402
from reducer.nmodl2jax import build_membrane  # noqa: E402
from reducer.train import trimmed  # noqa: E402

jax.config.update("jax_enable_x64", True)

# (recording, stimulus window length in ms); every one starts 50 ms into its trace.
SELECTION_STEPS = (("train/train_step_1.1R", 400.0), ("validation/val_step_1.2R", 400.0),
                   ("train/train_step_1.3R", 400.0), ("validation/val_step_1.5R", 400.0))
FI_AMPLITUDES = ("0.80", "1.20", "1.60", "2.00", "2.40", "2.80")
FLUCTUATING = (("test_ou_seed", 950.0), ("test_ou_0.7R_sd1R", 950.0),
               ("test_ou_1.4R_sd0.6R", 950.0), ("test_chirp", 900.0))
DELAY_MS = 50.0
SPIKE_COST = 2.0  # ms of latency error one spike of count error is worth


def first_spikes(t, v, dur_ms):
    s = metrics.spike_times(t, v)
    s = s[(s >= DELAY_MS) & (s <= DELAY_MS + dur_ms)]
    return len(s), metrics.first_spike_latency_ms(s, DELAY_MS)


def scan_run(run: Path, grid_nS: np.ndarray) -> dict:
    cal = json.loads((run / "calibration.json").read_text())
    soma = json.loads((run / "data" / "targets.json").read_text())["soma"]
    model, _ = load_model(run / "train" / "final")
    membrane = build_membrane(soma)
    v_rest = float(cal["v_rest_mV"])

    @eqx.filter_jit
    def simulate(i_stim, v0, dgs):
        def one(dg):
            cell = HybridCell.for_soma(trimmed(model, dg, v_rest), membrane, soma)
            v, _ = cell.simulate(i_stim[1:], 0.025, cell.init_state(v0))
            return v
        return jax.vmap(one)(dgs)

    def traces(name, dgs):
        z = np.load(run / "data" / f"{name}.npz")
        v = z["v_soma_mV"]
        vm = np.asarray(simulate(jnp.asarray(z["i_stim_nA"]), float(v[0]), jnp.asarray(dgs)))
        return z["t_ms"], v, vm

    cost = np.zeros(grid_nS.size)
    for name, dur in SELECTION_STEPS:
        t, v, vm = traces(name, grid_nS)
        n_ref, lat_ref = first_spikes(t, v, dur)
        for j in range(grid_nS.size):
            n, lat = first_spikes(t, vm[j], dur)
            lat_err = abs(lat - lat_ref) if np.isfinite(lat) else 10.0
            cost[j] += SPIKE_COST * abs(n - n_ref) + lat_err
    best = float(grid_nS[int(np.argmin(cost))])
    # Untrimmed and trimmed side by side: one load and one batched simulation per protocol.
    both = [0.0] if best == 0.0 else [0.0, best]
    rows = {dg: {"fi": [], "gamma_4ms": [], "rmse_mV": {}} for dg in both}
    for a in FI_AMPLITUDES:
        t, v, vm = traces(f"fi/fi_{a}R", both)
        n_ref, lat_ref = first_spikes(t, v, 500.0)
        for dg, vj in zip(both, vm, strict=True):
            n, lat = first_spikes(t, vj, 500.0)
            rows[dg]["fi"].append((a, n - n_ref, n_ref, lat - lat_ref if n_ref else 0.0))
    t, v, vm = traces("test/test_step_1.15R", both)
    lat_ref = first_spikes(t, v, 1000.0)[1]
    for dg, vj in zip(both, vm, strict=True):
        rows[dg]["latency_1.15R_ms"] = first_spikes(t, vj, 1000.0)[1] - lat_ref
    for name, dur in FLUCTUATING:
        t, v, vm = traces(f"test/{name}", both)
        for dg, vj in zip(both, vm, strict=True):
            g = metrics.compare_traces(t, v, vj, (DELAY_MS, DELAY_MS + dur))["gamma_4ms"]
            rows[dg]["gamma_4ms"].append(g)
    for name in ("test_step_0.6R", "test_step_-2R"):
        t, v, vm = traces(f"test/{name}", both)
        for dg, vj in zip(both, vm, strict=True):
            rows[dg]["rmse_mV"][name] = float(np.sqrt(np.mean((vj - v) ** 2)))
    zero = int(np.flatnonzero(grid_nS == 0.0)[0])
    return {"best_nS": best, "cost_untrimmed": float(cost[zero]), "cost_best": float(cost.min()),
            "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--grid-nS", default="-1,0.5,0.05", help="start,stop,step of the dg grid")
    args = ap.parse_args(argv)
    lo, hi, step = (float(x) for x in args.grid_nS.split(","))
    # 0 (no trim) is always on the grid: the untrimmed cost is reported against it.
    grid = np.union1d(np.round(np.arange(lo, hi + step / 2, step), 6), [0.0])
    for run in args.runs:
        if not (run / "train" / "final").exists() or not (run / "data" / "fi").exists():
            print(f"{run}: no trained model or no f-I recordings; run reduce-cell on it first")
            continue
        r = scan_run(run, grid)
        print(f"{run}: trim {r['best_nS']:+.2f} nS (selection cost {r['cost_untrimmed']:.1f} -> "
              f"{r['cost_best']:.1f})")
        for dg, row in r["rows"].items():
            fi = " ".join(f"{a}R {dn:+d}/{n}" for a, dn, n, _ in row["fi"])
            lat = max(abs(x[3]) for x in row["fi"])
            g = row["gamma_4ms"]
            print(f"  dg {dg:+.2f} nS: f-I spikes {fi}; f-I latency <= {lat:.2f} ms; "
                  f"1.15R latency {row['latency_1.15R_ms']:+.2f} ms; fluctuating Γ(4 ms) "
                  + " ".join(f"{x:.2f}" for x in g) + f" mean {np.mean(g):.3f}; RMSE "
                  + " ".join(f"{k[10:]} {x:.2f}" for k, x in row["rmse_mV"].items()) + " mV")
    return 0


if __name__ == "__main__":
    sys.exit(main())
