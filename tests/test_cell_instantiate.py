"""Building cells in NEURON (each in a fresh process): the bundled models and SWC layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from reducer.cell import load_cell_spec
from reducer.isolated import run_isolated

DATA = Path(__file__).parent / "data" / "cells"


def test_ca1_n120_builds_with_d_lambda_and_biophysics(models_dir):
    spec = load_cell_spec(models_dir / "ca1_n120")
    info = run_isolated("tests.cell_workers:cell_summary", spec=spec)
    assert info["n_sections"] == 154
    # d_lambda 0.1 at 100 Hz with Ra 100, cm 1 (NEURON's fixnseg rule on the 3-d points)
    assert info["n_segments"] == 624
    assert len(info["soma_sections"]) == 1
    assert info["soma_seg"].endswith("soma[0](0.5)")
    # single-point soma: Import3d's 3-point cylinder of L = diam = 20.66 um
    assert info["soma_area_um2"] == pytest.approx(1340.34, abs=0.01)
    assert info["celsius"] == 36.0
    for sec in info["sections"].values():
        assert sec["mechs"] == ["kdr_p08", "km_p08", "leak_p08", "na_p08"]
        assert sec["Ra"] == 100.0 and sec["cm"] == 1.0
        assert sec["nseg"] % 2 == 1
    # the three stems (two basal, one apical) leave the soma's middle
    assert sorted(x for _, _, x in info["soma_children"]) == [0.5, 0.5, 0.5]
    assert info["groups"]["dend"] + info["groups"]["apic"] == 153


def test_ca1_n120_parameters_reach_every_segment(models_dir):
    spec = load_cell_spec(models_dir / "ca1_n120")
    values = run_isolated(
        "tests.cell_workers:range_values", spec=spec,
        names=["gbar_na_p08", "vt_kdr_p08", "taumax_km_p08", "e_leak_p08", "ena", "ek"],
    )
    for sec in values.values():
        assert set(sec["gbar_na_p08"]) == {0.05}
        assert set(sec["vt_kdr_p08"]) == {-60.0}
        assert set(sec["taumax_km_p08"]) == {1000.0}
        assert set(sec["e_leak_p08"]) == {-70.0}
        assert set(sec["ena"]) == {50.0} and set(sec["ek"]) == {-90.0}


def test_soma_children_carry_the_whole_axial_current(models_dir):
    spec = load_cell_spec(models_dir / "ca1_n120")
    res = run_isolated("tests.cell_workers:axial_balance", spec=spec, amp_nA=0.5, tstop_ms=5.0)
    assert res["max_abs_axial_nA"] > 0.05  # a real current flows ...
    assert res["max_abs_diff_nA"] < 1e-11  # ... and the children account for all of it
