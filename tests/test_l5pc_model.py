"""models/l5pc: the Hay et al. 2011-style layer-5 pyramidal cell loads and behaves like one.

One fresh NEURON process (run_isolated: the cell's .mod files are compiled by nrnivmodl into
reduce-cell's mechanism cache and loaded there) builds the cell from models/l5pc/cell.json
and runs short protocols at the cell's own settings (34 degC, dt 0.025 ms):

* rest: 100 ms without input;
* bAP: a 1.9 nA, 5 ms somatic pulse (Hay et al.'s protocol), peak depolarisation at the
  soma and at apical trunk sites ~100 um and ~550 um from the soma;
* f-I: 0.5, 1.0, 1.5 nA somatic steps of 700 ms.

Takes about 30-40 s on two cores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reducer.cell import CellSpec, load_cell_spec
from reducer.isolated import run_isolated

MODEL = Path(__file__).resolve().parent.parent / "models" / "l5pc"
STEP_AMPS_NA = (0.5, 1.0, 1.5)
STEP_DELAY_MS = 20.0
STEP_DUR_MS = 700.0  # at 0.5 nA the 4th spike comes at ~600 ms
PROXIMAL_UM = 100.0
DISTAL_UM = 550.0


def _trunk_site(h, soma_sec, apical: list, dist_um: float):
    """The apical location at path distance ``dist_um`` from soma(0.5) with the largest diameter."""
    h.distance(0, soma_sec(0.5))
    best = None
    for sec in apical:
        d0, d1 = h.distance(sec(0)), h.distance(sec(1))
        if d0 <= dist_um <= d1 and d1 > d0:
            x = (dist_um - d0) / (d1 - d0)
            if best is None or sec(x).diam > best[0](best[1]).diam:
                best = (sec, x)
    assert best is not None, f"no apical dendrite at {dist_um} um"
    return best


def run_protocols(spec: CellSpec) -> dict[str, Any]:
    """Build the cell and run the rest, bAP and step protocols (in a fresh NEURON process)."""
    from reducer.cell import instantiate_cell

    cell = instantiate_cell(spec)
    h = cell.h
    h.load_file("stdrun.hoc")
    h.cvode.cache_efficient(1)
    h.dt = spec.dt_ms
    soma = cell.soma_seg
    apical = [s for s in cell.sections if s.name().startswith("apic")]
    out: dict[str, Any] = {
        "celsius": h.celsius,
        "n_axon": sum(1 for s in cell.sections if s.name().startswith("axon")),
        "mechs_soma": sorted(soma.sec.psection()["density_mechs"]),
    }

    # hot zone (414-614 um): full LVA density at 500 um, 1 % at 800 um
    hz = {}
    for label, d in (("at_500", 500.0), ("at_800", 800.0)):
        sec, x = _trunk_site(h, soma.sec, apical, d)
        hz[label] = sec(x).gbar_calva_l5
    out["lva"] = hz

    # rest + bAP in one run
    prox = _trunk_site(h, soma.sec, apical, PROXIMAL_UM)
    dist = _trunk_site(h, soma.sec, apical, DISTAL_UM)
    rec = {"soma": h.Vector().record(soma._ref_v),
           "prox": h.Vector().record(prox[0](prox[1])._ref_v),
           "dist": h.Vector().record(dist[0](dist[1])._ref_v)}
    pulse = h.IClamp(soma)
    pulse.delay, pulse.dur, pulse.amp = 100.0, 5.0, 1.9
    h.finitialize(spec.v_init_mV)
    h.continuerun(140.0)
    i0 = int(round(99.0 / spec.dt_ms))
    out["rest_mV"] = rec["soma"][i0]
    out["bap_mV"] = {k: max(v.to_python()[i0:]) - v[i0] for k, v in rec.items()}
    pulse.amp = 0.0

    # current steps
    step = h.IClamp(soma)
    step.delay, step.dur = STEP_DELAY_MS, STEP_DUR_MS
    times = h.Vector()
    counter = h.APCount(soma)
    counter.thresh = -10.0
    counter.record(times)
    out["spikes"] = {}
    for amp in STEP_AMPS_NA:
        step.amp = amp
        h.finitialize(spec.v_init_mV)
        h.continuerun(STEP_DELAY_MS + STEP_DUR_MS)
        out["spikes"][amp] = [t for t in times if t >= STEP_DELAY_MS]
    return out


@pytest.fixture(scope="module")
def l5pc_results() -> dict[str, Any]:
    spec = load_cell_spec(MODEL)
    return run_isolated("tests.test_l5pc_model:run_protocols", spec=spec)


def test_spec_uses_own_mechanisms_at_34_degrees():
    spec = load_cell_spec(MODEL)
    assert spec.kind == "hoc" and spec.celsius == 34.0 and spec.dt_ms == 0.025
    suffixes = {p.stem for p in spec.mod_files}
    assert suffixes == {"nat_l5", "nap_l5", "kv31_l5", "kp_l5", "kt_l5", "sk_l5", "im_l5",
                        "ih_l5", "cahva_l5", "calva_l5", "cad_l5"}
    for mod in spec.mod_files:
        assert f"SUFFIX {mod.stem}" in mod.read_text()


def test_cell_structure(l5pc_results):
    r = l5pc_results
    assert r["celsius"] == 34.0
    assert r["n_axon"] == 2  # the reconstructed axon is replaced by a 2-section stub
    assert {"nat_l5", "kv31_l5", "sk_l5", "cad_l5", "ih_l5", "pas"} <= set(r["mechs_soma"])
    assert r["lva"]["at_500"] == pytest.approx(0.0187)
    assert r["lva"]["at_800"] == pytest.approx(0.0187 * 0.01)


def test_resting_potential(l5pc_results):
    assert -80.0 < l5pc_results["rest_mV"] < -70.0


def test_repetitive_firing_increases_with_current(l5pc_results):
    counts = [len(l5pc_results["spikes"][a]) for a in STEP_AMPS_NA]
    assert all(n >= 3 for n in counts), counts
    assert counts[0] < counts[1] < counts[2], counts
    # no depolarisation block: spikes through the whole step at the largest current
    last = l5pc_results["spikes"][STEP_AMPS_NA[-1]][-1]
    assert last > STEP_DELAY_MS + 0.7 * STEP_DUR_MS


def test_backpropagating_ap_attenuates(l5pc_results):
    bap = l5pc_results["bap_mV"]
    assert bap["soma"] > 90.0  # a full somatic spike
    assert bap["soma"] > bap["prox"] > bap["dist"] > 2.0, bap
