"""A reduced cell that diverges in NEURON is reported, not fatal to the validation.

Mainen & Sejnowski 1996 (ModelDB 2488) reduced with its own soma channels: the linear
baseline's voltage ran away on a held-out protocol, its calcium pool's Newton solve failed
("scopmath library error") and the whole validate stage ended with a traceback.
"""

from __future__ import annotations

from pathlib import Path

from reducer.isolated import run_isolated
from tests.single_compartment import compile_mods

MOD = Path(__file__).resolve().parent / "mod_diverge" / "exp_guard.mod"


def test_a_run_neuron_stops_is_reported_with_its_time_and_neuron_goes_on():
    lib = compile_mods([MOD])
    res = run_isolated("tests.single_compartment:diverging_soma_run", lib=str(lib),
                       amp_nA=-50.0)
    assert res["first"] is not None and res["first"].startswith("NEURON stopped at t = ")
    t_stop = float(res["first"].split("t = ")[1].split(" ms")[0])
    assert 1.0 < t_stop < 50.0
    assert res["n_first"] < 2001  # the recording ends at the stop: padded later with NaN
    assert res["second"] is None and res["n_second"] == 2001


def test_a_cell_that_stays_finite_runs_to_the_end():
    lib = compile_mods([MOD])
    res = run_isolated("tests.single_compartment:diverging_soma_run", lib=str(lib),
                       amp_nA=0.01)
    assert res["first"] is None and res["n_first"] == 2001
