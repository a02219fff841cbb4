"""Published cell models as users download them: does each one get through reduce-cell?

For every model folder given (downloaded by the user, e.g. a ModelDB repository; nothing of
it is part of this project), with the reduce-cell arguments the corpus file gives for it:

1. loads       the cell builds in NEURON (reduce-cell's loader, the user's hoc and .mod files)
2. translates  every soma mechanism translates to JAX (reducer.nmodl2jax)
3. JAX≡NEURON  the soma alone, exported with a zero axial current and run in NEURON, fires the
               same spikes (±0.1 ms) as its JAX translation on three current steps
4. reduces     ``reduce-cell CELL ARGS --protocols small`` runs to its report

and one table row per model with the first error (one line) where a stage fails::

    python benchmarks/published_models.py /work/published/139653 /work/published/2488 \\
        --corpus benchmarks/published_corpus.json --out runs/published

The corpus file is a JSON list of ``{"accession", "name", "authors", "cell", "args"}``
(``args``: reduce-cell's arguments after the cell, run from the model folder; ``wrapper``:
the text of a hoc file the user would write, created as ``cell`` in the folder if absent);
a folder is matched by ``accession`` = its name. Results go to OUT/published_models.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reducer.errors import ReduceCellError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "benchmarks" / "published_corpus.json"
DT_MS = 0.025
# The soma-alone check: three steps (current density x soma area) after the soma settles.
STEP_DENSITIES_uA_PER_CM2 = (2.0, 5.0, 15.0)
SETTLE_MS, STEP_MS, TAIL_MS = 200.0, 200.0, 20.0
SPIKE_TOLERANCE_MS = 0.1


# ------------------------------------------------------------------ NEURON side (child)

def describe_worker(spec, settle_ms: float = 300.0) -> dict[str, Any]:
    """Build the cell, let it rest, describe its soma (what nmodl2jax and the exporter read)."""
    from reducer.cell import instantiate_cell
    from reducer.nmodl2jax import describe_soma

    cell = instantiate_cell(spec)
    h = cell.h
    h.cvode_active(0)
    h.dt = spec.dt_ms
    h.finitialize(spec.v_init_mV)
    h.continuerun(settle_ms)
    summary = cell.summary()
    summary["v_rest_mV"] = float(cell.soma_seg.v)
    summary["celsius"] = float(h.celsius)
    summary["soma_mechanisms"] = sorted(
        {m for sec in cell.soma for m in sec.psection()["density_mechs"]})
    try:  # reads the soma's .mod files: a failure here is the translation's, not the loader's
        summary["soma"] = describe_soma(cell.soma, list(spec.mod_files))
    except ReduceCellError as exc:
        summary["describe_error"] = str(exc).splitlines()[0]
    return summary


def soma_steps_worker(export_dir: str, amps_nA: list[float], dt_ms: float) -> list[dict]:
    """The exported soma (zero axial current) in NEURON under each current step."""
    from neuron import h

    from mod_export.loader import build, read_export

    info = read_export(export_dir)
    cell = build(export_dir)
    soma = getattr(cell, info["soma_section"])
    h.load_file("stdrun.hoc")
    h.cvode_active(0)
    h.secondorder = 0
    h.dt = dt_ms
    stim = h.IClamp(soma(0.5))
    stim.delay, stim.dur = SETTLE_MS, STEP_MS
    v = h.Vector().record(soma(0.5)._ref_v)
    i = h.Vector().record(stim._ref_i)
    out = []
    n = int(round((SETTLE_MS + STEP_MS + TAIL_MS) / dt_ms))
    for amp in amps_nA:
        stim.amp = amp
        h.finitialize(info["v_init_mV"])
        for _ in range(n):
            h.fadvance()
        out.append({"v": np.array(v), "i_stim": np.array(i)[1:]})
    return out


# ------------------------------------------------------------------ parent side

_WRAPPER_MARK = "// written by reduce-cell benchmarks/published_models.py\n"


def _one_line(exc: BaseException) -> str:
    # run_isolated appends the child's traceback after the message: keep the message, all of
    # it (a hoc error puts NEURON's own words on the lines after the first).
    text = str(exc).split("Traceback (most recent call last)")[0]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    joined = " ".join(lines) if lines else type(exc).__name__
    return joined if isinstance(exc, ReduceCellError) else f"{type(exc).__name__}: {joined}"


def _spec(entry: dict, folder: Path):
    from reducer.cli import build_parser, resolve_cell

    args = build_parser().parse_args([entry["cell"], *entry.get("args", [])])
    return resolve_cell(args)


def _zero_current(desc: dict):
    from reducer.hybrid.axial import init_filter_bank

    return init_filter_bank(n_states=1, n_hidden=0)  # zero readout: no axial current at all


def check_model(folder: Path, entry: dict, out: Path, reduce: bool,
                reduce_timeout_s: float) -> dict[str, Any]:
    """One model through the four stages; stops at the first that fails."""
    row: dict[str, Any] = {"accession": entry.get("accession", folder.name),
                           "name": entry.get("name", folder.name),
                           "authors": entry.get("authors", ""), "loads": False,
                           "translates": False, "jax_equals_neuron": None, "reduces": None,
                           "error": None, "stage_s": {}}
    cwd = os.getcwd()
    os.chdir(folder)  # reduce-cell's paths are relative to where the user starts it
    wrapper = folder / entry["cell"]
    if entry.get("wrapper") and (not wrapper.exists()
                                 or wrapper.read_text().startswith(_WRAPPER_MARK)):
        # A demo that builds its cell from a menu button: the few hoc lines a user writes
        # to do what the button does (README, "A published model as you downloaded it").
        # Only a file this script wrote is ever replaced, never one of the download's.
        wrapper.write_text(_WRAPPER_MARK + entry["wrapper"])
    try:
        t0 = time.perf_counter()
        from reducer.isolated import run_isolated

        try:
            spec = _spec(entry, folder)
            info = run_isolated("benchmarks.published_models:describe_worker", spec=spec,
                                timeout_s=600)
        except (ReduceCellError, SystemExit) as exc:
            row["error"] = f"loads: {_one_line(exc)}"
            return row
        row.update(loads=True, n_sections=info["n_sections"], n_segments=info["n_segments"],
                   soma_mechanisms=info["soma_mechanisms"],
                   celsius=info["celsius"], v_rest_mV=info["v_rest_mV"],
                   user_stimuli=[f"{s['name']} ({s['kind']})" for s in info["user_stimuli"]])
        row["stage_s"]["loads"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        from reducer.nmodl2jax import build_membrane

        if "describe_error" in info:
            row["error"] = f"translates: {info['describe_error']}"
            return row
        try:
            membrane = build_membrane(info["soma"])
        except ReduceCellError as exc:
            row["error"] = f"translates: {_one_line(exc)}"
            return row
        row["translates"] = True
        row["stage_s"]["translates"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        try:
            row.update(_jax_vs_neuron(info, membrane, out / row["name"] / "soma_export"))
        except ReduceCellError as exc:
            row["jax_equals_neuron"] = False
            row["error"] = f"JAX≡NEURON: {_one_line(exc)}"
        row["stage_s"]["jax_vs_neuron"] = time.perf_counter() - t0
        if not reduce:
            return row

        t0 = time.perf_counter()
        row.update(_reduce(entry, out / row["name"] / "run", reduce_timeout_s))
        row["stage_s"]["reduces"] = time.perf_counter() - t0
        if row["reduces"] is False and row["error"] is None:
            row["error"] = f"reduces: {row.pop('reduce_error')}"
        return row
    except Exception as exc:  # noqa: BLE001 - the table must get a row whatever happened
        row["error"] = f"benchmark: {type(exc).__name__}: {exc}".splitlines()[0]
        row["traceback"] = traceback.format_exc()
        return row
    finally:
        os.chdir(cwd)


def _jax_vs_neuron(info: dict, membrane, export_dir: Path) -> dict[str, Any]:
    from mod_export import export_reduced_cell
    from reducer.isolated import run_isolated
    from reducer.metrics import spike_times
    from reducer.nmodl2jax import simulate_single_compartment

    soma = info["soma"]
    export_reduced_cell(_zero_current(soma), soma, export_dir, "soma_check",
                        v_init_mV=info["v_rest_mV"], dt_ms=DT_MS, verify=False)
    amps = [j * soma["area_um2"] * 1e-5 for j in STEP_DENSITIES_uA_PER_CM2]
    runs = run_isolated("benchmarks.published_models:soma_steps_worker",
                        export_dir=str(export_dir), amps_nA=amps, dt_ms=DT_MS, timeout_s=600)
    worst, counts, same = 0.0, [], True
    for run in runs:
        v_jax = np.asarray(simulate_single_compartment(
            membrane, soma["area_um2"], soma["cm_uF_per_cm2"], run["i_stim"], DT_MS,
            info["v_rest_mV"]))
        t = np.arange(len(run["v"])) * DT_MS
        s_nrn, s_jax = spike_times(t, run["v"]), spike_times(t, v_jax[:len(t)])
        counts.append([len(s_nrn), len(s_jax)])
        if len(s_nrn) != len(s_jax):
            same = False
            continue
        if len(s_nrn):
            worst = max(worst, float(np.max(np.abs(s_nrn - s_jax))))
        before = t < (s_nrn[0] - 2.0 if len(s_nrn) else t[-1] + 1)
        worst_v = float(np.max(np.abs(run["v"][before] - v_jax[:len(t)][before])))
        if worst_v > 1e-3:
            same = False
    same = same and worst <= SPIKE_TOLERANCE_MS
    result = {"jax_equals_neuron": bool(same), "soma_spikes_neuron_jax": counts,
              "max_spike_shift_ms": worst}
    if not same:
        result["error"] = (f"JAX≡NEURON: soma alone, spikes (NEURON, JAX) per step {counts}, "
                           f"largest shift {worst:.3g} ms")
    return result


def _reduce(entry: dict, run_dir: Path, timeout_s: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "reducer.cli", entry["cell"], *entry.get("args", []),
           "--protocols", "small", "--out", str(run_dir)]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir.parent / "reduce-cell.log"
    with open(log_path, "w") as log:
        try:
            proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  timeout=timeout_s)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            return {"reduces": False, "reduce_error": f"did not finish in {timeout_s / 60:.0f} "
                                                      f"min (log: {log_path})"}
    text = log_path.read_text(errors="replace")
    if code != 0:
        lines = [ln for ln in text.splitlines() if ln.startswith("reduce-cell: ")]
        tb = "Traceback (most recent call last)" in text
        msg = lines[-1].removeprefix("reduce-cell: ") if lines else (
            text.strip().splitlines()[-1] if text.strip() else f"exit code {code}")
        return {"reduces": False, "reduce_error": msg + (" [TRACEBACK in log]" if tb else ""),
                "reduce_log": str(log_path)}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {"reduces": True, "reduce_log": str(log_path), "heldout": _headline(metrics)}


def _headline(metrics: dict) -> dict[str, Any]:
    """The few numbers of a run the table shows: held-out mean Γ(4 ms), subthreshold RMSE
    and the speed-up in NEURON (``--protocols small``: a smoke set, not the accuracy claim)."""
    held, speed = metrics.get("heldout") or {}, metrics.get("speed") or {}
    return {"gamma_4ms": held.get("gamma_4ms"),
            "subthreshold_rmse_mV": held.get("subthreshold_rmse_mV"),
            "speedup": speed.get("speedup"), "floor_speedup": speed.get("floor_speedup")}


def _num(x: Any, digits: int) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _cell(value: Any) -> str:
    return {True: "yes", False: "**no**", None: "–"}.get(value, str(value))


def markdown_table(rows: list[dict]) -> str:
    head = ("| model | authors | sections / segments | soma mechanisms | loads | translates "
            "| JAX≡NEURON | reduces | Γ(4 ms) / speed-up (small set) | first error |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        size = f"{r.get('n_sections', '–')} / {r.get('n_segments', '–')}"
        mechs = ", ".join(r.get("soma_mechanisms", [])) or "–"
        err = (r["error"] or "").replace("|", "\\|")
        hd = r.get("heldout") or {}
        nums = "–" if not hd else (
            f"{_num(hd.get('gamma_4ms'), 2)} / {_num(hd.get('speedup'), 1)}×")
        lines.append(f"| {r['name']} ({r['accession']}) | {r['authors']} | {size} | {mechs} | "
                     f"{_cell(r['loads'])} | {_cell(r['translates'])} | "
                     f"{_cell(r['jax_equals_neuron'])} | {_cell(r['reduces'])} | {nums} | "
                     f"{err} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", type=Path, help="downloaded model folders")
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                   help="JSON list of the models' reduce-cell arguments")
    p.add_argument("--out", type=Path, default=Path("runs/published"))
    p.add_argument("--no-reduce", action="store_true", help="stop after JAX≡NEURON")
    p.add_argument("--reduce-timeout-min", type=float, default=60.0)
    args = p.parse_args(argv)
    os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")
    corpus = {str(e["accession"]): e for e in json.loads(args.corpus.read_text())}
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "published_models.json"
    rows = json.loads(results_path.read_text()) if results_path.exists() else []
    for folder in args.folders:
        folder = folder.resolve()
        entry = corpus.get(folder.name)
        if entry is None:
            rows.append({"accession": folder.name, "name": folder.name, "authors": "",
                         "loads": False, "translates": False, "jax_equals_neuron": None,
                         "reduces": None, "error": f"{folder.name} is not in {args.corpus}: "
                                                   "add its reduce-cell arguments there"})
            continue
        print(f"== {entry['name']} ({folder}) ==", flush=True)
        row = check_model(folder, entry, out, not args.no_reduce,
                          args.reduce_timeout_min * 60)
        print(f"   loads {row['loads']}, translates {row['translates']}, JAX≡NEURON "
              f"{row['jax_equals_neuron']}, reduces {row['reduces']}; {row['error'] or 'ok'}",
              flush=True)
        rows = [r for r in rows if r["accession"] != row["accession"]] + [row]
        with tempfile.NamedTemporaryFile("w", dir=out, delete=False, suffix=".tmp") as tmp:
            json.dump(rows, tmp, indent=1, default=str)
        os.replace(tmp.name, results_path)
        (out / "published_models.md").write_text(markdown_table(rows))
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
