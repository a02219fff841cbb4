"""Functions run in a fresh NEURON process (via run_isolated) by the tests of reducer.cell."""

from __future__ import annotations

from typing import Any

from reducer.cell import CellSpec, instantiate_cell


def cell_summary(spec: CellSpec) -> dict[str, Any]:
    """Build the cell; return its summary plus per-section details for assertions."""
    cell = instantiate_cell(spec)
    out = cell.summary()
    out["sections"] = {
        sec.name(): {
            "nseg": int(sec.nseg),
            "L": sec.L,
            "Ra": sec.Ra,
            "cm": sec(0.5).cm,
            "mechs": sorted(sec.psection()["density_mechs"]),
        }
        for sec in cell.sections
    }
    out["group_names"] = {g: [s.name() for s in secs] for g, secs in cell.groups.items()}
    out["celsius"] = cell.h.celsius
    return out


def range_values(spec: CellSpec, names: list[str]) -> dict[str, dict[str, list[float]]]:
    """Values of range variables ``names`` on every segment, section by section."""
    cell = instantiate_cell(spec)
    return {
        sec.name(): {n: [getattr(seg, n) for seg in sec] for n in names if hasattr(sec(0.5), n)}
        for sec in cell.sections
    }


def axial_balance(spec: CellSpec, amp_nA: float = 0.5, tstop_ms: float = 5.0) -> dict[str, float]:
    """Compare the soma_children axial current with Σ soma i_membrane_ − stimulus.

    With fast_imem, i_membrane_ of the soma's segments (nA, IClamp excluded) minus the injected
    current equals the current the attached sections send in; if ``soma_children`` missed or
    mis-placed a child, the two would differ.
    """
    cell = instantiate_cell(spec)
    h = cell.h
    cvode = h.CVode()
    cvode.use_fast_imem(1)
    stim = h.IClamp(cell.soma_seg)
    stim.delay, stim.dur, stim.amp = 1.0, 1e9, amp_nA
    h.finitialize(spec.v_init_mV)
    worst, largest = 0.0, 0.0
    while h.t < tstop_ms - 1e-9:
        h.fadvance()
        from_children = 0.0
        for child, soma_sec, x in cell.soma_children:
            first = child(0.5 / child.nseg) if child.orientation() == 0 else child(
                1 - 0.5 / child.nseg)
            from_children += (first.v - soma_sec(x).v) / first.ri()
        imem = sum(seg.i_membrane_ for sec in cell.soma for seg in sec)
        inj = stim.i
        worst = max(worst, abs(from_children - (imem - inj)))
        largest = max(largest, abs(from_children))
    return {"max_abs_diff_nA": worst, "max_abs_axial_nA": largest}


def step_spikes(
    spec: CellSpec, amp_nA: float, delay_ms: float = 50.0, dur_ms: float = 500.0,
    tstop_ms: float = 600.0,
) -> dict[str, Any]:
    """Spike times (upward −20 mV crossings at the soma) for a somatic current step."""
    cell = instantiate_cell(spec)
    h = cell.h
    stim = h.IClamp(cell.soma_seg)
    stim.delay, stim.dur, stim.amp = delay_ms, dur_ms, amp_nA
    times = h.Vector()
    counter = h.APCount(cell.soma_seg)
    counter.thresh = -20.0
    counter.record(times)
    v_rest = h.Vector().record(cell.soma_seg._ref_v)
    h.finitialize(spec.v_init_mV)
    h.continuerun(tstop_ms)
    return {"spike_times_ms": list(times), "v_end_mV": v_rest[-1], "v_before_mV": v_rest[
        int(delay_ms / spec.dt_ms) - 1]}


def many_summaries(specs: list[CellSpec]) -> list[dict[str, Any]]:
    """Build several cells that share no compiled mechanisms in one process (SWC + built-ins)."""
    return [instantiate_cell(spec).summary() for spec in specs]


def summary_and_warnings(spec: CellSpec) -> tuple[dict[str, Any], list[str]]:
    """Build the cell, recording the warnings the loader gives."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = instantiate_cell(spec).summary()
    return info, [str(w.message) for w in caught]


def build_twice(spec: CellSpec) -> list[dict[str, Any]]:
    """Instantiate the same spec twice in one process (keeping both alive)."""
    first = instantiate_cell(spec)
    second = instantiate_cell(spec)
    return [first.summary(), second.summary()]
