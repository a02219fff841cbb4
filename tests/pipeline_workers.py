"""Functions run in a fresh NEURON process (via run_isolated) by the pipeline tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from reducer.protocols import Protocol
from reducer.targets import FullCellRig, axial_current_from_ri


def balance_check(spec, protocol: dict, settle_ms: float = 50.0) -> dict[str, Any]:
    """Run a protocol with the targets rig; recompute the axial current from child voltages
    and ri() at every step; return both."""
    rig = FullCellRig(spec, settle_ms=settle_ms)
    h = rig.h
    terms = axial_current_from_ri(rig.cell)
    vecs = [(h.Vector().record(c._ref_v), h.Vector().record(s._ref_v), ri) for c, s, ri in terms]
    p = Protocol.from_dict(protocol)
    data = rig.run(p.waveform_nA(rig.dt_ms))
    i_ri = np.zeros_like(data["i_axial_nA"])
    for vc, vs, ri in vecs:
        i_ri += (np.array(vc) - np.array(vs)) / ri
    return {"data": data, "i_axial_ri_nA": i_ri, "n_children": len(terms),
            "n_soma_sections": len(rig.cell.soma), "meta": rig.metadata()}
