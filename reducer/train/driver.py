"""train_hybrid: the stages in order, each checkpointed to the work folder and skipped
when its checkpoint exists (resume)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

from reducer.hybrid.axial import GatedAxialCurrent
from reducer.hybrid.cell import HybridCell
from reducer.hybrid.model_io import load_model, save_model
from reducer.progress import log
from reducer.targets import Dataset
from reducer.train.closed_loop import train_closed_loop
from reducer.train.config import TrainConfig
from reducer.train.data import check_dataset, pad_dataset
from reducer.train.evaluate import (
    closed_loop_metrics,
    selection_score,
    short_summary,
    start_score,
)
from reducer.train.gates import init_mixed, q_start, weight_load_nS
from reducer.train.losses import (
    LossSpec,
    check_finite,
    conductance_weights,
    fit_readout,
    weight_holds,
    weight_steps,
)
from reducer.train.open_loop import baseline_filter_bank, train_open_loop
from reducer.train.trim import choose_trim, trimmed


@dataclass
class TrainResult:
    """What :func:`train_hybrid` returns."""

    model: GatedAxialCurrent
    baseline: GatedAxialCurrent
    history: dict[str, Any]
    selection: dict[str, Any]


def write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=float))
    tmp.replace(path)


def _trim(model, selection: dict[str, Any], membrane, soma, datasets, val, dt_ms: float,
          v_rest: float):
    """Stage 3: :func:`choose_trim` on the training and validation steps, and the trimmed
    model's validation score, which the restarts then compare."""
    log("stage 3: conductance trim on the training and validation steps")
    info = choose_trim(model, membrane, soma, datasets, dt_ms, v_rest)
    out = trimmed(model, info["dg_nS"], v_rest)
    new = dict(selection)
    new["untrimmed"] = {k: selection.get(k) for k in ("score", "validation")}
    new["trim"] = info
    if len(val.names):
        s = closed_loop_metrics(HybridCell.for_soma(out, membrane, soma), val, dt_ms)["summary"]
        new["score"], new["validation"] = selection_score(s), short_summary(s)
        new["start_score"] = start_score(s)
    old_score = selection.get("score")
    log(f"trim {info['dg_nS']:+.2f} nS (step cost {info['cost_untrimmed']:.1f} -> "
        f"{info['cost']:.1f} over {len(info['steps'])} steps); validation score "
        + (f"{old_score:.3f} -> " if old_score is not None else "")
        + f"{new.get('score', float('nan')):.3f} (start score: "
        f"{new.get('start_score', float('nan')):.3f})")
    return out, new


def train_hybrid(membrane, soma: dict[str, Any], train_ds: Dataset, val_ds: Dataset,
                 cfg: TrainConfig, work_dir: Path, load_nS: float | None = None,
                 dc_iv: dict[str, Any] | None = None) -> TrainResult:
    """Run (or resume) all stages; models are written to ``work_dir``.

    ``load_nS`` is the dendritic load of the open-loop weights, measured on the full cell
    (:func:`dendritic_load_nS`); without it the baseline's DC slope stands in. ``dc_iv``
    ({"v_mV": [...], "i_axial_nA": [...]}) is the full cell's steady-state axial current under
    somatic voltage clamp, fitted with weight ``cfg.dc_weight``.

    Returns a :class:`TrainResult`: the selected model, the linear baseline, the loss and
    validation history, and the selection record (stage, step or epoch, validation metrics).
    """
    check_dataset(train_ds, "training")
    check_dataset(val_ds, "validation")
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    dt_ms = float(train_ds.meta[0]["dt_ms"])
    v_rest = float(train_ds.meta[0]["v_rest_mV"])
    i_rest = float(train_ds.meta[0]["i_axial_rest_nA"])
    train = pad_dataset(train_ds)
    # The protocols that hold the soma (somatic voltage clamp) teach the open loop; the linear
    # floor (DESIGN.md) is fitted to free-running recordings, whose clamp transients a filter
    # bank cannot follow, and the closed loop replays injected current, which for a hold is
    # the clamp's (tens of nA at its onset): both use the free-running protocols only.
    free_ds, held = train_ds.free_running()
    train_free = pad_dataset(free_ds) if held else train
    val = pad_dataset(val_ds)
    hist_path = work_dir / "history.json"
    history: dict[str, Any] = json.loads(hist_path.read_text()) if hist_path.exists() else {}
    timings = history.setdefault("wall_s", {})

    def done(name):
        return (work_dir / name / "axial_model.json").exists()

    def save_history():
        write_json_atomic(hist_path, history)

    t0 = time.perf_counter()
    if done("baseline"):
        baseline, _ = load_model(work_dir / "baseline")
    else:
        log("stage 0: linear filter-bank baseline (least squares)")
        baseline = baseline_filter_bank(train_free, dt_ms, v_rest, i_rest)
        check_finite(baseline, "baseline", 0)
        save_model(work_dir / "baseline", baseline, {"stage": "baseline"})
        timings["baseline"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if done("open_loop"):
        axial, _ = load_model(work_dir / "open_loop")
    else:
        log(f"stage 1: open loop, {cfg.n_states} states, {cfg.n_hidden} hidden units")
        axial = init_mixed(cfg)
        g_ref, source = (weight_load_nS(load_nS, baseline, v_rest) if cfg.weight_by_conductance
                         else (None, "off"))
        history["open_loop_weights"] = {"dendritic_load_nS": g_ref, "source": source}
        if g_ref is not None:
            bcell = HybridCell.for_soma(baseline, membrane, soma)
            weights = conductance_weights(bcell, train, dt_ms, g_ref)
            log(f"open-loop weights: dendritic load {g_ref:.1f} nS ({source})")
        else:
            weights = train.mask[:, 1:].astype(jnp.float64)
            log(f"open-loop weights: uniform (dendritic load {source})")
        weights = weight_holds(weights, train_ds, dt_ms, cfg.hold_weight)
        weights = weight_steps(weights, train_ds, dt_ms, cfg.step_weight)
        dc = dc_iv or {}
        spec = LossSpec(weights, cfg.lowpass_ms, cfg.lowpass_weight,
                         dc.get("v_mV"), dc.get("i_axial_nA"),
                         cfg.dc_weight if dc.get("v_mV") else 0.0)
        if spec.dc_weight > 0:
            log(f"open loop: steady-state current at {len(dc['v_mV'])} voltage-clamp levels, "
                f"weight {cfg.dc_weight:g}")
        axial = fit_readout(axial, train, dt_ms, cfg.ridge, v_rest, i_rest, q_start(cfg),
                            spec=spec, extrap_weight=cfg.extrap_weight)
        hist: list[float] = []
        chosen: list[dict] = []

        def score_fn(ax):
            s = closed_loop_metrics(HybridCell.for_soma(ax, membrane, soma), val, dt_ms)["summary"]
            return selection_score(s), s

        axial = train_open_loop(axial, train, dt_ms, cfg, v_rest, i_rest, hist, spec,
                                score_fn if len(val.names) else None, chosen)
        history["open_loop"] = hist
        history["open_loop_selection"] = chosen
        check_finite(axial, "open loop", cfg.open_loop_steps)
        save_model(work_dir / "open_loop", axial, {"stage": "open_loop"})
        timings["open_loop"] = time.perf_counter() - t0
        save_history()

    cell = HybridCell.for_soma(axial, membrane, soma)
    t0 = time.perf_counter()
    if done("final"):
        model, meta = load_model(work_dir / "final")
        selection = meta.get("selection", {})
    elif cfg.trim and done("untrimmed"):
        model, meta = load_model(work_dir / "untrimmed")
        model, selection = _trim(model, meta.get("selection", {}), membrane, soma,
                                 [free_ds, val_ds], val, dt_ms, v_rest)
        save_model(work_dir / "final", model, {"stage": "final", "selection": selection,
                                               "config": cfg.to_dict()})
    else:
        if cfg.closed_loop_epochs > 0:
            log("stage 2: closed loop")
            model, best = train_closed_loop(cell, train_free, val, dt_ms, cfg, v_rest, i_rest,
                                            history, work_dir)
            selection = {"epoch": best["epoch"], "score": best["score"],
                         "validation": short_summary(best["summary"])}
        else:
            chosen = history.get("open_loop_selection") or [{}]
            best = max(chosen, key=lambda c: c.get("score", -np.inf))
            selection = {"stage": "open_loop", "epoch": 0, **best}
            model = axial
        timings["closed_loop"] = time.perf_counter() - t0
        if cfg.trim:
            # Checkpoint first: the trim is cheap, the stages before it are not.
            save_model(work_dir / "untrimmed", model, {"stage": "untrimmed",
                                                       "selection": selection})
            t0 = time.perf_counter()
            model, selection = _trim(model, selection, membrane, soma, [free_ds, val_ds], val,
                                     dt_ms, v_rest)
            timings["trim"] = time.perf_counter() - t0
        save_model(work_dir / "final", model, {"stage": "final", "selection": selection,
                                               "config": cfg.to_dict()})
        save_history()
    return TrainResult(model=model, baseline=baseline, history=history, selection=selection)
