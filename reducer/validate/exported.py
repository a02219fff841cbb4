"""Running the exported reduced cell, and the full cell, in one NEURON process: the
clamp, the fixed step, the one library that holds every export's mechanism, clean-up."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from reducer.progress import Progress


class Clamp:
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


def run_timed(h, v_init: float, tstop: float) -> float:
    h.finitialize(v_init)
    t0 = time.perf_counter()
    h.continuerun(tstop)
    return time.perf_counter() - t0


def with_export_mechanisms(spec, export_dirs: dict[str, str]):
    """The cell spec with every export's axial mechanism added to its .mod files, so that one
    library holds them all (NEURON loads a mechanism name once); and each export.json."""
    import json

    infos = {k: json.loads((Path(d) / "export.json").read_text()) for k, d in export_dirs.items()}
    axial_mods = tuple(Path(d) / infos[k]["mod_file"] for k, d in export_dirs.items())
    return dataclasses.replace(spec, mod_files=tuple(spec.mod_files) + axial_mods), infos


def full_cell_and_exports(spec, export_dirs: dict[str, str]):
    """The full cell, in a NEURON that can also build every export, at the fixed dt; and each
    export's export.json."""
    from reducer.cell import instantiate_cell

    spec, infos = with_export_mechanisms(spec, export_dirs)
    cell = instantiate_cell(spec)
    fixed_step(cell.h, float(spec.dt_ms))
    return cell, infos


def fixed_step(h, dt_ms: float) -> None:
    """NEURON's fixed step at ``dt_ms`` (the scheme the hybrid model was trained with)."""
    h.dt = dt_ms
    h.steps_per_ms = 1.0 / dt_ms
    h.secondorder = 0
    h.cvode_active(0)


def time_full_cell(h, cell, spec, t_wave: np.ndarray, tstop: float,
                    repeats: int) -> list[float]:
    """Wall times (s) of ``repeats`` runs of the full cell on one stimulus waveform."""
    clamp = Clamp(h, cell.soma_seg, float(spec.dt_ms))
    clamp.set(t_wave)
    prog = Progress(repeats, "time full cell", min_interval_s=0.0)
    runs = []
    for k in range(repeats):
        runs.append(run_timed(h, spec.v_init_mV, tstop))
        prog.update(k + 1, f"{runs[-1]:.2f} s per run")
    prog.close()
    clamp.vec.play_remove()
    return runs


def without_axial(h, rc, info: dict[str, Any]):
    """The reduced cell ``rc`` with its learned current removed: the soma-only floor."""
    # Python's None cannot be assigned to a hoc objref: drop the reference in hoc itself.
    h("objref reduce_cell_floor_, reduce_cell_nil_")
    h.reduce_cell_floor_ = rc
    h(f"reduce_cell_floor_.{info['point_process']} = reduce_cell_nil_")
    h("objref reduce_cell_floor_")
    return rc


def delete_sections(h, sections) -> None:
    for sec in list(sections):
        try:
            h.delete_section(sec=sec)
        except Exception:  # already gone with its owner
            pass
