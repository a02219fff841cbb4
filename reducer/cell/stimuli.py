"""Stimuli that the user's own hoc placed in the cell: found, and switched off for the reduction.

Published demo files often build the cell *and* its experiment: an ``IClamp`` on the soma,
a voltage clamp, synapses driven by ``NetStim``/``VecStim`` through ``NetCon``s. Left on,
they would run inside every calibration and training simulation (a standing current makes
the input resistance come out negative). They are switched off in place (the objects stay,
so the user's hoc keeps working); ``keep_stimuli`` leaves them as they are.
"""

from __future__ import annotations

import re
from typing import Any

# Point processes that inject current or clamp, and how each is silenced without deleting it.
_CLAMPS = {
    "IClamp": ("dur",),
    "SEClamp": ("dur1", "dur2", "dur3"),
    "VClamp": ("dur[0]", "dur[1]", "dur[2]"),
    "AlphaSynapse": ("gmax",),
}


def _base(hname: str) -> str:
    return re.sub(r"\[\d+\]$", "", hname)


def _where(pp: Any) -> str:
    seg = pp.get_segment()
    return f"{seg.sec.name()}({seg.x:.3g})" if seg is not None else "(not in a section)"


def _silence(pp: Any, fields: tuple[str, ...]) -> None:
    for name in fields:
        if name.endswith("]"):
            array, index = name[:-1].split("[")
            getattr(pp, array)[int(index)] = 0.0
        else:
            setattr(pp, name, 0.0)


def find_user_stimuli(h: Any, sections: list, keep: bool = False) -> list[dict[str, str]]:
    """Find the current/voltage clamps in ``sections`` and the NetCons driving their point
    processes from outside the cell (NetStim, VecStim, another cell); switch them off unless
    ``keep``.

    Returns:
        One entry per stimulus: ``{"name", "kind", "location", "action"}``, in a stable order
        (clamps by section order, then NetCons in hoc's order).
    """
    cell_secs = set(sections)
    found: list[dict[str, str]] = []
    action = "kept (keep_stimuli)" if keep else "switched off"
    for sec in sections:
        for seg in sec:
            for pp in seg.point_processes():
                kind = _base(pp.hname())
                if kind in _CLAMPS:
                    found.append({"name": pp.hname(), "kind": kind, "location": _where(pp),
                                  "action": action})
                    if not keep:
                        _silence(pp, _CLAMPS[kind])
    for nc in h.List("NetCon"):
        target = nc.syn()
        if target is None:
            continue  # a spike detector (NetCon with no target): records, drives nothing
        seg = target.get_segment()
        if seg is None or seg.sec not in cell_secs:
            continue
        pre = nc.pre()
        pre_sec = nc.preseg().sec if nc.preseg() is not None else None
        if pre_sec is not None and pre_sec in cell_secs:
            continue  # the cell driving itself (an autapse) is part of the cell
        source = pre.hname() if pre is not None else (
            pre_sec.name() if pre_sec is not None else "events sent from hoc (no source)")
        artificial = pre is not None and pre_sec is None
        found.append({"name": nc.hname(), "kind": f"NetCon from {_base(source)}",
                      "location": f"{target.hname()} at {_where(target)}", "action": action,
                      "source": source, "artificial_source": artificial})
        if not keep:
            nc.active(False)
            if artificial:
                _quiet_source(h, pre)
    return found


def _quiet_source(h: Any, source: Any) -> None:
    """Stop an artificial cell (NetStim, VecStim) from scheduling its own events: the
    simulations restart from a saved rest state, and events it queued at finitialize would
    arrive out of order there."""
    if hasattr(source, "number"):
        source.number = 0  # NetStim: no first event at initialisation
    elif hasattr(source, "play"):
        source.play(h.Vector())  # VecStim: an empty event list


def describe_user_stimuli(stimuli: list[dict[str, str]]) -> str:
    """One line for the log and the report."""
    if not stimuli:
        return ""
    shown = "; ".join(f"{s['name']} ({s['kind']}) at {s['location']}" for s in stimuli[:6])
    more = f" and {len(stimuli) - 6} more" if len(stimuli) > 6 else ""
    verb = stimuli[0]["action"]
    hint = ("; pass --keep-stimuli (cell.json \"keep_stimuli\": true) to keep them"
            if verb == "switched off" else "")
    return (f"stimuli placed by the cell's own hoc, {verb} for the reduction: "
            f"{shown}{more}{hint}")
