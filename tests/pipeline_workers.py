"""Functions run in a fresh NEURON process (via run_isolated) by the pipeline tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from reducer.protocols import Protocol
from reducer.targets import FullCellRig, axial_current_from_ri


def balance_check(spec, protocol: dict, settle_ms: float = 50.0,
                  replay: bool = False) -> dict[str, Any]:
    """Run a protocol with the targets rig; recompute the axial current from child voltages
    and ri() at every step; return both (and with ``replay`` a second run that injects the
    recorded ``i_stim_nA`` as current only)."""
    rig = FullCellRig(spec, settle_ms=settle_ms)
    h = rig.h
    terms = axial_current_from_ri(rig.cell)
    vecs = [(h.Vector().record(c._ref_v), h.Vector().record(s._ref_v), ri) for c, s, ri in terms]
    p = Protocol.from_dict(protocol)
    data = rig.run(p.waveform_nA(rig.dt_ms), holds=p.hold_waveforms(rig.dt_ms),
                   synapses=p.synaptic_drive(rig.v_rest_mV))
    i_ri = np.zeros_like(data["i_axial_nA"])
    for vc, vs, ri in vecs:
        i_ri += (np.array(vc) - np.array(vs)) / ri
    out = {"data": data, "i_axial_ri_nA": i_ri, "n_children": len(terms),
           "n_soma_sections": len(rig.cell.soma), "meta": rig.metadata(),
           "v_rest_mV": rig.v_rest_mV,
           "synapses": [{"tau_ms": s.tau, "e_mV": s.e, "g_uS": np.array(g)}
                        for s, g in zip(rig.synapses.syns, rig.synapses.g_recs, strict=True)]}
    if replay:
        # the recorded injected current as a plain current clamp (sample k is step k-1 -> k)
        out["replay"] = rig.run(data["i_stim_nA"][1:])
    return out


def load_export_and_spike(folder: str, amp_nA: float) -> dict[str, Any]:
    """Load an export exactly as the issue describes and drive its soma with a step."""
    import json
    from pathlib import Path

    from neuron import h, load_mechanisms

    info = json.loads((Path(folder) / "export.json").read_text())
    assert load_mechanisms(str(Path(folder) / info["mechanisms_dir"]))
    assert h.load_file(str(Path(folder) / info["hoc_file"]))
    cell = getattr(h, info["template"])()
    soma = getattr(cell, info["soma_section"])
    h.load_file("stdrun.hoc")
    h.celsius, h.dt = info["celsius_degC"], info["dt_ms"]
    stim = h.IClamp(soma(0.5))
    stim.delay, stim.dur, stim.amp = 10.0, 100.0, amp_nA
    v = h.Vector().record(soma(0.5)._ref_v)
    h.finitialize(info["v_init_mV"])
    h.continuerun(120.0)
    v = np.array(v)
    n = int(np.sum((v[1:] > -20) & (v[:-1] <= -20)))
    return {"n_spikes": n, "v0": float(v[0])}
