"""Networks of exported cells (and of full cells) timed in NEURON: cost per cell as
the network grows."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from reducer.progress import Progress
from reducer.protocols import Protocol
from reducer.validate.exported import (
    Clamp,
    delete_sections,
    full_cell_and_exports,
    run_timed,
    time_full_cell,
    without_axial,
)


def network_timing_worker(spec, export_dir: str, timing_protocol: dict, n_cells: list[int],
                          repeats_full: int = 3, repeats: int = 3) -> dict[str, Any]:
    """NEURON-process entry point: per-cell cost of N reduced cells simulated together.

    One simulation of one reduced cell is mostly NEURON's fixed cost per time step, not the
    cell; in a network that cost is shared. So the reduced cell (and the soma-only floor) is
    timed as N independent cells in one simulation, each on the timing protocol's waveform
    scaled by 0.9..1.1 (so they do not fire in lockstep; one cell gets it unscaled), and
    the wall time is divided by N.
    The full cell is timed alone: its own computation dominates, so N of them cost N times
    as much. Returns seconds per run (median of repeats) and spikes per cell.
    """
    from mod_export import load_template

    cell, infos = full_cell_and_exports(spec, {"export": export_dir})
    info = infos["export"]
    h = cell.h
    dt = float(spec.dt_ms)
    tp = Protocol.from_dict(timing_protocol)
    t_wave = tp.waveform_nA(dt)
    tstop = tp.n_steps(dt) * dt
    full = time_full_cell(h, cell, spec, t_wave, tstop, repeats_full)
    out: dict[str, Any] = {"timing_protocol": tp.name, "simulated_ms": tstop,
                           "n_segments_full": cell.n_segments,
                           "full_s": statistics.median(full), "full_runs_s": full,
                           "networks": []}
    delete_sections(h, cell.sections)
    cell = None

    template = load_template(export_dir)
    prog = Progress(2 * len(n_cells) * repeats, "time networks", min_interval_s=0.0)
    for n in n_cells:
        for label in ("reduced", "soma_only"):
            # in a function, so every reference to these cells is gone when it returns
            out["networks"].append(_time_network(h, template, info, n, label == "soma_only",
                                                 t_wave, tstop, repeats, prog))
            if sum(1 for _ in h.List(info["mechanism"])):
                raise RuntimeError("reduced cells of an earlier network are still alive")
    prog.close()
    return out


def _time_network(h, template, info: dict[str, Any], n: int, soma_only: bool,
                  t_wave: np.ndarray, tstop: float, repeats: int, prog: Progress) -> dict:
    """Time ``n`` cells of ``template`` (without their learned current if ``soma_only``)."""
    cells = [template() for _ in range(n)]
    if soma_only:
        cells = [without_axial(h, rc, info) for rc in cells]
    clamps, counters = [], []
    for k, rc in enumerate(cells):
        seg = getattr(rc, info["soma_section"])(0.5)
        clamps.append(Clamp(h, seg, float(info["dt_ms"])))
        scale = 0.9 + 0.2 * k / (n - 1) if n > 1 else 1.0
        clamps[-1].set(t_wave * scale)
        counters.append(h.APCount(seg))
        counters[-1].thresh = -20.0
    runs = []
    label = "soma-only" if soma_only else "reduced"
    for _ in range(repeats):
        runs.append(run_timed(h, info["v_init_mV"], tstop))
        prog.update(prog.done + 1, f"{n} {label} cells: {runs[-1]:.2f} s")
    for clamp in clamps:
        clamp.vec.play_remove()
    return {"cells": n, "kind": label, "wall_s": statistics.median(runs), "runs_s": runs,
            "per_cell_s": statistics.median(runs) / n,
            "spikes_per_cell": float(np.mean([c.n for c in counters]))}
