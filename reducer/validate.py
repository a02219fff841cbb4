"""Validation: the exported reduced cell in NEURON against the full cell, on held-out protocols,
and wall-time of full vs reduced in NEURON (same process, same protocol, fixed dt).

One NEURON process (``neuron_validation_worker``) loads ONE library compiled from the full
cell's .mod files plus every exported axial mechanism (NEURON loads a mechanism name once), then
builds, times and deletes one cell at a time, so each timing sees only its own cell:

1. the full cell (timing only: its held-out traces are already in the dataset),
2. each export (trained model, linear baseline): held-out and f-I traces, timing,
3. the soma-only floor: the reduced template with its axial current removed (timing).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from reducer.progress import Progress, log
from reducer.protocols import Protocol


class _Clamp:
    """An IClamp at a segment, driven by a per-step waveform through Vector.play."""

    def __init__(self, h, seg, dt_ms: float):
        self.h = h
        self.dt_ms = dt_ms
        self.stim = h.IClamp(seg)
        self.stim.delay = 0.0
        self.stim.dur = 1e12
        self.stim.amp = 0.0
        self.vec = None

    def set(self, waveform_nA: np.ndarray) -> None:
        if self.vec is not None:
            self.vec.play_remove()
        self.vec = self.h.Vector(np.asarray(waveform_nA, dtype=float))
        self.vec.play(self.stim._ref_amp, self.dt_ms)


def _run(h, v_init: float, tstop: float) -> float:
    h.finitialize(v_init)
    t0 = time.perf_counter()
    h.continuerun(tstop)
    return time.perf_counter() - t0


def _with_export_mechanisms(spec, export_dirs: dict[str, str]):
    """The cell spec with every export's axial mechanism added to its .mod files, so that one
    library holds them all (NEURON loads a mechanism name once); and each export.json."""
    import json

    infos = {k: json.loads((Path(d) / "export.json").read_text()) for k, d in export_dirs.items()}
    axial_mods = tuple(Path(d) / infos[k]["mod_file"] for k, d in export_dirs.items())
    return dataclasses.replace(spec, mod_files=tuple(spec.mod_files) + axial_mods), infos


def _full_cell_and_exports(spec, export_dirs: dict[str, str]):
    """The full cell, in a NEURON that can also build every export, at the fixed dt; and each
    export's export.json."""
    from reducer.cell import instantiate_cell

    spec, infos = _with_export_mechanisms(spec, export_dirs)
    cell = instantiate_cell(spec)
    _fixed_step(cell.h, float(spec.dt_ms))
    return cell, infos


def _fixed_step(h, dt_ms: float) -> None:
    """NEURON's fixed step at ``dt_ms`` (the scheme the hybrid model was trained with)."""
    h.dt = dt_ms
    h.steps_per_ms = 1.0 / dt_ms
    h.secondorder = 0
    h.cvode_active(0)


def _time_full_cell(h, cell, spec, t_wave: np.ndarray, tstop: float,
                    repeats: int) -> list[float]:
    """Wall times (s) of ``repeats`` runs of the full cell on one stimulus waveform."""
    clamp = _Clamp(h, cell.soma_seg, float(spec.dt_ms))
    clamp.set(t_wave)
    prog = Progress(repeats, "time full cell", min_interval_s=0.0)
    runs = []
    for k in range(repeats):
        runs.append(_run(h, spec.v_init_mV, tstop))
        prog.update(k + 1, f"{runs[-1]:.2f} s per run")
    prog.close()
    clamp.vec.play_remove()
    return runs


def _without_axial(h, rc, info: dict[str, Any]):
    """The reduced cell ``rc`` with its learned current removed: the soma-only floor."""
    # Python's None cannot be assigned to a hoc objref: drop the reference in hoc itself.
    h("objref reduce_cell_floor_, reduce_cell_nil_")
    h.reduce_cell_floor_ = rc
    h(f"reduce_cell_floor_.{info['point_process']} = reduce_cell_nil_")
    h("objref reduce_cell_floor_")
    return rc


def _delete_sections(h, sections) -> None:
    for sec in list(sections):
        try:
            h.delete_section(sec=sec)
        except Exception:  # already gone with its owner
            pass


def neuron_validation_worker(spec, export_dirs: dict[str, str], protocols: list[dict],
                             timing_protocol: dict, repeats_full: int = 3,
                             repeats_reduced: int = 7) -> dict[str, Any]:
    """NEURON-process entry point; returns traces per export and the timings (seconds)."""
    cell, infos = _full_cell_and_exports(spec, export_dirs)
    h = cell.h
    dt = float(spec.dt_ms)
    tp = Protocol.from_dict(timing_protocol)
    t_wave = tp.waveform_nA(dt)
    tstop = tp.n_steps(dt) * dt
    out: dict[str, Any] = {"timing": {}, "traces": {}, "timing_protocol": tp.name,
                           "simulated_ms": tstop}

    # 1. full cell
    full = _time_full_cell(h, cell, spec, t_wave, tstop, repeats_full)
    out["timing"]["full_s"] = statistics.median(full)
    out["timing"]["full_runs_s"] = full
    out["n_segments_full"] = cell.n_segments
    _delete_sections(h, cell.sections)
    cell = None

    from mod_export import load_template

    plist = [Protocol.from_dict(p) for p in protocols]
    for label, folder in export_dirs.items():
        info = infos[label]
        template = load_template(folder)
        rc = template()
        soma = getattr(rc, info["soma_section"])
        axial = getattr(rc, info["point_process"])
        clamp = _Clamp(h, soma(0.5), dt)
        v_rec = h.Vector().record(soma(0.5)._ref_v)
        i_rec = h.Vector().record(axial._ref_i)
        traces = {}
        prog = Progress(len(plist), f"NEURON {label} cell", min_interval_s=1.0)
        for k, p in enumerate(plist):
            clamp.set(p.waveform_nA(dt))
            _run(h, info["v_init_mV"], p.n_steps(dt) * dt)
            traces[p.name] = {"v_mV": np.array(v_rec), "i_axial_nA": np.array(i_rec)}
            prog.update(k + 1, p.name)
        prog.close()
        out["traces"][label] = traces
        clamp.set(t_wave)
        runs = [_run(h, info["v_init_mV"], tstop) for _ in range(repeats_reduced)]
        out["timing"][f"{label}_s"] = statistics.median(runs)
        clamp.vec.play_remove()
        del v_rec, i_rec, axial, soma, clamp
        rc = None

    # 3. soma-only floor: the first export's template without its learned current
    first = next(iter(export_dirs))
    info = infos[first]
    rc = _without_axial(h, load_template(export_dirs[first])(), info)
    soma = getattr(rc, info["soma_section"])
    clamp = _Clamp(h, soma(0.5), dt)
    clamp.set(t_wave)
    runs = [_run(h, info["v_init_mV"], tstop) for _ in range(repeats_reduced)]
    out["timing"]["soma_only_s"] = statistics.median(runs)
    n_pp = sum(1 for _ in h.List(info["mechanism"]))
    if n_pp:
        raise RuntimeError(f"soma-only floor still holds {n_pp} {info['mechanism']} instance(s)")
    return out


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

    cell, infos = _full_cell_and_exports(spec, {"export": export_dir})
    info = infos["export"]
    h = cell.h
    dt = float(spec.dt_ms)
    tp = Protocol.from_dict(timing_protocol)
    t_wave = tp.waveform_nA(dt)
    tstop = tp.n_steps(dt) * dt
    full = _time_full_cell(h, cell, spec, t_wave, tstop, repeats_full)
    out: dict[str, Any] = {"timing_protocol": tp.name, "simulated_ms": tstop,
                           "n_segments_full": cell.n_segments,
                           "full_s": statistics.median(full), "full_runs_s": full,
                           "networks": []}
    _delete_sections(h, cell.sections)
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
        cells = [_without_axial(h, rc, info) for rc in cells]
    clamps, counters = [], []
    for k, rc in enumerate(cells):
        seg = getattr(rc, info["soma_section"])(0.5)
        clamps.append(_Clamp(h, seg, float(info["dt_ms"])))
        scale = 0.9 + 0.2 * k / (n - 1) if n > 1 else 1.0
        clamps[-1].set(t_wave * scale)
        counters.append(h.APCount(seg))
        counters[-1].thresh = -20.0
    runs = []
    label = "soma-only" if soma_only else "reduced"
    for _ in range(repeats):
        runs.append(_run(h, info["v_init_mV"], tstop))
        prog.update(prog.done + 1, f"{n} {label} cells: {runs[-1]:.2f} s")
    for clamp in clamps:
        clamp.vec.play_remove()
    return {"cells": n, "kind": label, "wall_s": statistics.median(runs), "runs_s": runs,
            "per_cell_s": statistics.median(runs) / n,
            "spikes_per_cell": float(np.mean([c.n for c in counters]))}


def time_jax(cell, protocol: Protocol, dt_ms: float, v0: float, repeats: int = 5) -> float:
    """Median wall time (s) of the jitted JAX closed-loop simulation of one protocol."""
    import equinox as eqx
    import jax.numpy as jnp

    i_steps = jnp.asarray(protocol.waveform_nA(dt_ms))
    sim = eqx.filter_jit(lambda c, i, s0: c.simulate(i, dt_ms, s0)[0])
    state0 = cell.init_state(v0)
    sim(cell, i_steps, state0).block_until_ready()  # compile
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sim(cell, i_steps, state0).block_until_ready()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def simulate_jax(cell, protocols: list[Protocol], dt_ms: float, v0: float) -> dict[str, np.ndarray]:
    """Closed-loop JAX traces of the hybrid model (same initial state as the exported cell)."""
    import equinox as eqx
    import jax.numpy as jnp

    sim = eqx.filter_jit(lambda c, i, s0: c.simulate(i, dt_ms, s0)[0])
    state0 = cell.init_state(v0)
    return {p.name: np.asarray(sim(cell, jnp.asarray(p.waveform_nA(dt_ms)), state0))
            for p in protocols}


def run_validation(spec, export_dirs: dict[str, Path], protocols: list[Protocol],
                   timing_protocol: Protocol, repeats_full: int = 3,
                   repeats_reduced: int = 7) -> dict[str, Any]:
    """Run :func:`neuron_validation_worker` in a fresh NEURON process."""
    from reducer.isolated import run_isolated

    log(f"validating in NEURON: {len(protocols)} protocols x {len(export_dirs)} reduced cells, "
        f"timing on '{timing_protocol.name}'")
    return run_isolated(
        "reducer.validate:neuron_validation_worker", spec=spec,
        export_dirs={k: str(v) for k, v in export_dirs.items()},
        protocols=[p.to_dict() for p in protocols], timing_protocol=timing_protocol.to_dict(),
        repeats_full=repeats_full, repeats_reduced=repeats_reduced)
