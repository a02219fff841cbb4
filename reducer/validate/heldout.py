"""Validation: the exported reduced cell in NEURON against the full cell, on held-out protocols,
and wall-time of full vs reduced in NEURON (same process, same protocol, fixed dt).

One NEURON process (``neuron_validation_worker``) loads ONE library compiled from the full
cell's .mod files plus every exported axial mechanism (NEURON loads a mechanism name once), then
builds, times and deletes one cell at a time, so each timing sees only its own cell:

1. the full cell (timing only: its held-out traces are already in the dataset),
2. each export (trained model, linear baseline): held-out and f-I traces, timing,
3. the soma-only floor: the reduced template with its axial current removed (timing)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from reducer.progress import Progress, log
from reducer.protocols import Protocol
from reducer.validate.exported import (
    Clamp,
    delete_sections,
    full_cell_and_exports,
    run_timed,
    time_full_cell,
    without_axial,
)


def run_or_diverge(h, v_init: float, tstop: float) -> str | None:
    """Run to ``tstop``; where NEURON stops with an error (a reduced cell whose voltage runs
    away makes a channel's Newton solve fail: "scopmath library error"), say where, so that
    one diverging cell is reported as such instead of ending the validation."""
    try:
        run_timed(h, v_init, tstop)
    except RuntimeError as exc:
        return f"NEURON stopped at t = {float(h.t):.3f} ms ({str(exc).splitlines()[0]})"
    return None


def _padded(vec, n: int) -> np.ndarray:
    """A recording of ``n`` samples: what was recorded, NaN after a stop."""
    x = np.full(n, np.nan)
    got = np.asarray(vec)[:n]
    x[:len(got)] = got
    return x


def neuron_validation_worker(spec, export_dirs: dict[str, str], protocols: list[dict],
                             timing_protocol: dict, repeats_full: int = 3,
                             repeats_reduced: int = 7) -> dict[str, Any]:
    """NEURON-process entry point; returns traces per export and the timings (seconds)."""
    cell, infos = full_cell_and_exports(spec, export_dirs)
    h = cell.h
    dt = float(spec.dt_ms)
    tp = Protocol.from_dict(timing_protocol)
    t_wave = tp.waveform_nA(dt)
    tstop = tp.n_steps(dt) * dt
    out: dict[str, Any] = {"timing": {}, "traces": {}, "timing_protocol": tp.name,
                           "simulated_ms": tstop, "diverged": {}}

    # 1. full cell
    full = time_full_cell(h, cell, spec, t_wave, tstop, repeats_full)
    out["timing"]["full_s"] = statistics.median(full)
    out["timing"]["full_runs_s"] = full
    out["n_segments_full"] = cell.n_segments
    delete_sections(h, cell.sections)
    cell = None

    from mod_export import load_template

    plist = [Protocol.from_dict(p) for p in protocols]
    for label, folder in export_dirs.items():
        info = infos[label]
        template = load_template(folder)
        rc = template()
        soma = getattr(rc, info["soma_section"])
        axial = getattr(rc, info["point_process"])
        clamp = Clamp(h, soma(0.5), dt)
        v_rec = h.Vector().record(soma(0.5)._ref_v)
        i_rec = h.Vector().record(axial._ref_i)
        traces = {}
        prog = Progress(len(plist), f"NEURON {label} cell", min_interval_s=1.0)
        for k, p in enumerate(plist):
            clamp.set(p.waveform_nA(dt))
            stopped = run_or_diverge(h, info["v_init_mV"], p.n_steps(dt) * dt)
            n = p.n_steps(dt) + 1
            traces[p.name] = {"v_mV": _padded(v_rec, n), "i_axial_nA": _padded(i_rec, n)}
            if stopped:
                out["diverged"].setdefault(label, {})[p.name] = stopped
                log(f"the {label} cell diverged on '{p.name}': {stopped}")
            prog.update(k + 1, p.name)
        prog.close()
        out["traces"][label] = traces
        clamp.set(t_wave)
        try:
            runs = [run_timed(h, info["v_init_mV"], tstop) for _ in range(repeats_reduced)]
            out["timing"][f"{label}_s"] = statistics.median(runs)
        except RuntimeError:  # NEURON stopped: a diverged run times nothing
            out["timing"][f"{label}_s"] = float("nan")
        clamp.vec.play_remove()
        del v_rec, i_rec, axial, soma, clamp
        rc = None

    # 3. soma-only floor: the first export's template without its learned current
    first = next(iter(export_dirs))
    info = infos[first]
    rc = without_axial(h, load_template(export_dirs[first])(), info)
    soma = getattr(rc, info["soma_section"])
    clamp = Clamp(h, soma(0.5), dt)
    clamp.set(t_wave)
    runs = [run_timed(h, info["v_init_mV"], tstop) for _ in range(repeats_reduced)]
    out["timing"]["soma_only_s"] = statistics.median(runs)
    n_pp = sum(1 for _ in h.List(info["mechanism"]))
    if n_pp:
        raise RuntimeError(f"soma-only floor still holds {n_pp} {info['mechanism']} instance(s)")
    return out


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
        "reducer.validate.heldout:neuron_validation_worker", spec=spec,
        export_dirs={k: str(v) for k, v in export_dirs.items()},
        protocols=[p.to_dict() for p in protocols], timing_protocol=timing_protocol.to_dict(),
        repeats_full=repeats_full, repeats_reduced=repeats_reduced)
