"""hoc cells (plain and template): the bundled ball-and-stick, overrides, and one clear error each.

Every cell is built in a fresh NEURON process (run_isolated), from real files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reducer.cell import load_cell_spec
from reducer.errors import CellLoadError, MechanismError
from reducer.isolated import run_isolated

DATA = Path(__file__).parent / "data" / "cells"


def _summary(spec):
    return run_isolated("tests.cell_workers:cell_summary", spec=spec)


def test_ball_and_stick_plain_hoc(models_dir):
    info = _summary(load_cell_spec(models_dir / "ball_and_stick"))
    assert info["n_sections"] == 2 and info["n_segments"] == 8
    assert info["soma_sections"] == ["soma"] and info["soma_seg"] == "soma(0.5)"
    assert info["soma_children"] == [("dend", "soma", 1.0)]
    assert info["soma_area_um2"] == pytest.approx(1256.637, abs=1e-3)
    assert info["sections"]["dend"]["L"] == pytest.approx(200.0)  # from pt3dadd
    assert info["sections"]["soma"]["mechs"] == ["hh"]
    assert info["sections"]["dend"]["mechs"] == ["pas"]


def test_ball_and_stick_template_matches_and_takes_arguments(models_dir):
    spec = load_cell_spec(models_dir / "ball_and_stick" / "template")
    info = _summary(spec)
    assert info["soma_sections"] == ["BallAndStick[0].soma"]  # via the 'somatic' SectionList
    assert info["n_segments"] == 8 and info["groups"]["dend"] == 1  # 'basal' list + name
    longer = _summary(load_cell_spec(spec.root, template_args=[400]))
    assert longer["sections"]["BallAndStick[0].dend"]["L"] == pytest.approx(400.0)


def test_ball_and_stick_fires_repetitively(models_dir):
    for folder in (models_dir / "ball_and_stick", models_dir / "ball_and_stick" / "template"):
        spec = load_cell_spec(folder)
        quiet = run_isolated("tests.cell_workers:step_spikes", spec=spec, amp_nA=0.0,
                             tstop_ms=100.0)
        assert quiet["spike_times_ms"] == [] and quiet["v_end_mV"] == pytest.approx(-65, abs=0.5)
        res = run_isolated("tests.cell_workers:step_spikes", spec=spec, amp_nA=0.3)
        spikes = res["spike_times_ms"]
        assert len(spikes) == 41  # 82 Hz over the 500 ms step (README table)
        assert 50.0 < spikes[0] < 53.0 and spikes[-1] > 500.0


def test_template_reading_its_morphology_argument():
    # relative morphology path in template_args: resolved from the model folder (cwd)
    info = _summary(load_cell_spec(DATA / "template_swc"))
    assert info["n_sections"] == 4 and info["soma_sections"] == ["MorphCell[0].soma[0]"]
    assert info["sections"]["MorphCell[0].soma[0]"]["mechs"] == ["hh", "pas"]
    assert info["groups"]["apic"] == 2 and info["groups"]["dend"] == 1


def test_biophysics_override_on_a_hoc_cell(models_dir, tmp_path):
    bio = tmp_path / "bio.json"
    bio.write_text(json.dumps({"sections": {
        "soma": {"insert": {"hh": {"gnabar": 0.2}}},
        "dend": {"cm": 2.0, "set": {"e_pas": -70.0}},
    }}))
    spec = load_cell_spec(models_dir / "ball_and_stick", biophysics=bio)
    values = run_isolated("tests.cell_workers:range_values", spec=spec,
                          names=["gnabar_hh", "gkbar_hh", "e_pas", "cm"])
    assert values["soma"]["gnabar_hh"] == [0.2] and values["soma"]["gkbar_hh"] == [0.036]
    assert values["dend"]["e_pas"] == [-70.0] * 7 and values["dend"]["cm"] == [2.0] * 7
    assert values["soma"]["cm"] == [1.0]


def _hoc(tmp_path: Path, text: str, **overrides):
    path = tmp_path / "cell.hoc"
    path.write_text(text)
    return load_cell_spec(path, **overrides)


def test_hoc_syntax_error(tmp_path):
    spec = _hoc(tmp_path, "create soma\nsoma { L = 10\n  diam = = 3 }\n")
    with pytest.raises(CellLoadError) as err:
        _summary(spec)
    msg = str(err.value)
    assert f"loading {tmp_path / 'cell.hoc'} failed" in msg
    assert "syntax error" in msg and "near line 3" in msg and "diam = = 3" in msg


def test_hoc_file_without_sections(tmp_path):
    with pytest.raises(CellLoadError, match=r"cell\.hoc created no sections"):
        _summary(_hoc(tmp_path, "x = 1\n"))


def test_hoc_runtime_error(tmp_path):
    spec = _hoc(tmp_path, "create soma\nx = 1/0\n")
    with pytest.raises(CellLoadError, match=r"(?s)division by zero.*near line 2"):
        _summary(spec)


def test_hoc_using_a_missing_mechanism(tmp_path, models_dir):
    spec = _hoc(tmp_path, "create soma\nsoma { L = 10 diam = 10 insert nax }\n")
    pattern = r"mechanism 'nax', which is not built into NEURON, and no mechanisms folder is set"
    with pytest.raises(MechanismError, match=pattern):
        _summary(spec)
    shutil.copytree(models_dir / "ca1_n120" / "mechanisms", tmp_path / "mechanisms")
    spec = load_cell_spec(tmp_path / "cell.hoc")
    with pytest.raises(MechanismError, match=r"no .mod file in .*mechanisms defines it; add"):
        _summary(spec)


def test_template_name_and_constructor_errors(models_dir):
    folder = models_dir / "ball_and_stick" / "template"
    with pytest.raises(CellLoadError, match="template 'BallAndStik' is not defined after loading"):
        _summary(load_cell_spec(folder, template="BallAndStik"))
    with pytest.raises(CellLoadError, match=r"(?s)BallAndStick\(\).*needs one argument"):
        _summary(load_cell_spec(folder, template_args=[]))


def test_no_identifiable_soma(tmp_path):
    text = "create cellbody, dend\nconnect dend(0), cellbody(1)\n"
    text += "cellbody { L = 20 diam = 20 insert hh }\ndend { L = 100 diam = 1 insert pas }\n"
    spec = _hoc(tmp_path, text)
    with pytest.raises(CellLoadError) as err:
        _summary(spec)
    msg = str(err.value)
    assert "no identifiable soma" in msg and "'cellbody'" in msg and '"soma":' in msg
    with pytest.raises(CellLoadError, match=r"'soma': 'somma' names no section"):
        _summary(_hoc(tmp_path, text, soma="somma"))
    info = _summary(_hoc(tmp_path, text, soma="cellbody"))
    assert info["soma_sections"] == ["cellbody"]
    assert info["soma_children"] == [("dend", "cellbody", 1.0)]


def test_biophysics_errors_at_build_time(models_dir, tmp_path):
    bio = tmp_path / "bio.json"
    bio.write_text(json.dumps({"sections": {"soma": {"insert": {"hh": {"gnabarr": 0.2}}}}}))
    with pytest.raises(MechanismError, match=r"'hh' has no parameter 'gnabarr'"):
        _summary(load_cell_spec(models_dir / "ball_and_stick", biophysics=bio))
    bio.write_text(json.dumps({"sections": {"hilock": {"Ra": 50}}}))
    with pytest.raises(CellLoadError, match=r"group 'hilock' matches no section"):
        _summary(load_cell_spec(models_dir / "ball_and_stick", biophysics=bio))
    bio.write_text(json.dumps({"sections": {"dend": {"set": {"gnabar_hh": 0.1}}}}))
    with pytest.raises(CellLoadError, match=r"cannot set 'gnabar_hh' in dend"):
        _summary(load_cell_spec(models_dir / "ball_and_stick", biophysics=bio))


def test_disconnected_sections_are_reported(tmp_path):
    text = "create soma, dend, axon\nconnect dend(0), soma(1)\n"
    info, warned = run_isolated("tests.cell_workers:summary_and_warnings",
                                spec=_hoc(tmp_path, text))
    assert info["n_sections"] == 3
    assert len(warned) == 1 and "1 section(s) are not connected to the soma (axon)" in warned[0]


def test_building_twice_in_one_process(models_dir):
    template = load_cell_spec(models_dir / "ball_and_stick" / "template")
    first, second = run_isolated("tests.cell_workers:build_twice", spec=template)
    assert first["soma_sections"] == ["BallAndStick[0].soma"]
    assert second["soma_sections"] == ["BallAndStick[1].soma"] and second["n_sections"] == 2
    with pytest.raises(CellLoadError, match="already built in this process"):
        run_isolated("tests.cell_workers:build_twice",
                     spec=load_cell_spec(models_dir / "ball_and_stick"))
