"""An exported reduced cell in NetPyNE: imported from its hoc template, it behaves as in NEURON.

NetPyNE builds cells from a description it reads off the template (``importCellParams``); the
test checks that this copy keeps the learned current (a POINT_PROCESS in the soma) and gives
the same spikes as the template in plain NEURON, alone and driving a second cell through a
synapse. Each simulator runs in its own process (NetPyNE keeps global state).
"""

from __future__ import annotations

import pytest

from mod_export import export_reduced_cell
from reducer.isolated import run_isolated
from tests.test_export_mod import ca1_soma_description, random_model

pytest.importorskip("netpyne")

STIM = {"delay_ms": 20.0, "dur_ms": 150.0, "amp_nA": 0.3}
SYN = {"tau_ms": 2.0, "e_mV": 0.0, "delay_ms": 2.0, "threshold_mV": -20.0}
TSTOP_MS = 200.0


def run_netpyne(folder: str, weight_uS: float) -> dict:
    """Two single-cell populations A -> B (ExpSyn), an IClamp on A; spikes per population."""
    import json
    from pathlib import Path

    from netpyne import sim, specs
    from neuron import load_mechanisms

    info = json.loads((Path(folder) / "export.json").read_text())
    assert load_mechanisms(str(Path(folder) / info["mechanisms_dir"]))
    net = specs.NetParams()
    net.defaultThreshold = SYN["threshold_mV"]
    rule = net.importCellParams(label="reduced", conds={"cellType": "reduced"},
                                fileName=str(Path(folder) / info["hoc_file"]),
                                cellName=info["template"], importSynMechs=False)
    net.popParams["A"] = {"cellType": "reduced", "numCells": 1}
    net.popParams["B"] = {"cellType": "reduced", "numCells": 1}
    net.synMechParams["exc"] = {"mod": "ExpSyn", "tau": SYN["tau_ms"], "e": SYN["e_mV"]}
    net.stimSourceParams["step"] = {"type": "IClamp", "del": STIM["delay_ms"],
                                    "dur": STIM["dur_ms"], "amp": STIM["amp_nA"]}
    net.stimTargetParams["step->A"] = {"source": "step", "conds": {"pop": "A"}, "sec": "soma",
                                       "loc": 0.5}
    net.connParams["A->B"] = {"preConds": {"pop": "A"}, "postConds": {"pop": "B"},
                              "synMech": "exc", "weight": weight_uS, "delay": SYN["delay_ms"],
                              "sec": "soma", "loc": 0.5}
    cfg = specs.SimConfig()
    cfg.duration, cfg.dt = TSTOP_MS, info["dt_ms"]
    cfg.hParams = {"celsius": info["celsius_degC"], "v_init": info["v_init_mV"]}
    cfg.verbose = cfg.printRunTime = cfg.printPopAvgRates = False
    cfg.saveJson = cfg.savePickle = False
    sim.createSimulateAnalyze(netParams=net, simConfig=cfg)
    gids = {pop: sim.net.pops[pop].cellGids[0] for pop in ("A", "B")}
    spikes = list(zip(sim.allSimData["spkid"], sim.allSimData["spkt"], strict=True))
    return {"pointps": {name: dict(sec.get("pointps", {})) for name, sec in rule["secs"].items()},
            **{pop: [float(t) for g, t in spikes if int(g) == gid] for pop, gid in gids.items()}}


def run_plain(folder: str, weight_uS: float) -> dict:
    """The same two cells and synapse built directly from the template in NEURON."""
    from neuron import h

    from mod_export.loader import build, read_export

    info = read_export(folder)
    a, b = build(folder), build(folder)
    h.load_file("stdrun.hoc")
    stim = h.IClamp(a.soma(0.5))
    stim.delay, stim.dur, stim.amp = STIM["delay_ms"], STIM["dur_ms"], STIM["amp_nA"]
    syn = h.ExpSyn(b.soma(0.5))
    syn.tau, syn.e = SYN["tau_ms"], SYN["e_mV"]
    conn = h.NetCon(a.soma(0.5)._ref_v, syn, SYN["threshold_mV"], SYN["delay_ms"], weight_uS,
                    sec=a.soma)
    out = {}
    recorders = []
    for pop, cell in (("A", a), ("B", b)):
        vec = h.Vector()
        nc = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
        nc.threshold = SYN["threshold_mV"]
        nc.record(vec)
        recorders.append((pop, vec, nc))
    h.dt = info["dt_ms"]
    h.finitialize(info["v_init_mV"])
    h.continuerun(TSTOP_MS)
    del conn
    for pop, vec, _ in recorders:
        out[pop] = list(vec)
    return out


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return export_reduced_cell(random_model(10, 8, seed=3), ca1_soma_description(),
                               tmp_path_factory.mktemp("netpyne") / "cell", "ca1_n120",
                               v_init_mV=-70.4, use_table=True)


@pytest.mark.parametrize("weight_uS", [0.0, 0.05])
def test_netpyne_cells_spike_as_in_neuron(export, weight_uS):
    net = run_isolated("tests.test_netpyne:run_netpyne", timeout_s=300,
                       folder=str(export.out_dir), weight_uS=weight_uS)
    plain = run_isolated("tests.test_netpyne:run_plain", timeout_s=300,
                         folder=str(export.out_dir), weight_uS=weight_uS)
    # NetPyNE's copy of the cell carries the learned current as a point process in the soma
    assert [p["mod"] for p in net["pointps"]["soma"].values()] == [export.mechanism]
    print(f"weight {weight_uS} uS: spikes A {len(plain['A'])}, B {len(plain['B'])}")
    assert len(plain["A"]) >= 5
    assert (len(plain["B"]) > 0) == (weight_uS > 0)  # B fires only through the synapse
    for pop in ("A", "B"):
        assert len(net[pop]) == len(plain[pop])
        assert all(abs(x - y) < 1e-9 for x, y in zip(net[pop], plain[pop], strict=True))
