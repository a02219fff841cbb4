"""Cells as published models ship them: our own files with the same constructs.

* ``published_layout``: a template file that does not load import3d.hoc, reads its
  morphology with Import3d from a constructor argument relative to the folder the user
  starts in, and takes its channels from a biophysics template in another file (the layout
  of Hay et al. 2011's L5PC: models/, morphologies/).
* ``plain_demo``: a 1990s-style plain hoc file with its own IClamp, a NetStim-driven
  synapse and an xpanel.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reducer.cell import load_cell_spec
from reducer.errors import CellLoadError, ReduceCellError
from reducer.isolated import run_isolated

DATA = Path(__file__).parent / "data" / "cells"
LAYOUT = DATA / "published_layout"
DEMO = DATA / "plain_demo" / "demo.hoc"


def _layout_spec(monkeypatch, load_files):
    monkeypatch.chdir(LAYOUT)  # as the user types it: from the model's top folder
    return load_cell_spec("models/ImpCell.hoc", template="ImpCell",
                          template_args=["morphologies/cell.swc"], load_files=load_files)


def test_load_files_come_before_the_template_file(monkeypatch):
    spec = _layout_spec(monkeypatch, ["models/ImpBiophys.hoc"])
    assert [p.name for p in spec.load_files] == ["ImpBiophys.hoc", "ImpCell.hoc"]
    assert spec.kind == "template" and spec.template == "ImpCell"


def test_template_argument_relative_to_the_current_folder(monkeypatch):
    spec = _layout_spec(monkeypatch, ["models/ImpBiophys.hoc"])
    assert spec.template_args == (str(LAYOUT / "morphologies" / "cell.swc"),)
    # a string that is no file stays as it is
    other = load_cell_spec(LAYOUT / "models" / "ImpCell.hoc", template="ImpCell",
                           template_args=["no/such/file", 3.0])
    assert other.template_args == ("no/such/file", 3.0)


def test_neuron_library_files_resolve_as_load_file_finds_them(monkeypatch):
    spec = _layout_spec(monkeypatch, ["import3d.hoc", "models/ImpBiophys.hoc"])
    lib = spec.load_files[0]
    assert lib.name == "import3d.hoc" and lib.is_file() and "lib" in lib.parts
    with pytest.raises(CellLoadError, match="nor is 'nosuchlib.hoc' a file of NEURON's hoc"):
        _layout_spec(monkeypatch, ["nosuchlib.hoc"])


@pytest.mark.parametrize("with_import3d", [False, True])
def test_published_layout_builds_with_or_without_import3d_named(monkeypatch, with_import3d):
    spec = _layout_spec(monkeypatch, ["import3d.hoc"] * with_import3d + ["models/ImpBiophys.hoc"])
    info = run_isolated("tests.cell_workers:cell_summary", spec=spec)
    assert info["soma_sections"] == ["ImpCell[0].soma[0]"]
    assert info["sections"]["ImpCell[0].soma[0]"]["mechs"] == ["hh", "pas"]
    assert info["groups"]["apic"] == 2 and info["groups"]["dend"] == 1


def test_plain_demo_stimuli_are_found_and_switched_off():
    spec = load_cell_spec(DEMO, celsius=6.3, v_init_mV=-65.0)
    info = run_isolated("tests.cell_workers:cell_summary", spec=spec)
    found = {s["kind"]: s for s in info["user_stimuli"]}
    assert set(found) == {"IClamp", "NetCon from NetStim"}
    assert found["IClamp"]["location"] == "soma(0.5)"
    assert all(s["action"] == "switched off" for s in info["user_stimuli"])
    quiet = run_isolated("tests.cell_workers:step_spikes", spec=spec, amp_nA=0.0, tstop_ms=300.0)
    assert quiet["spike_times_ms"] == [] and quiet["v_end_mV"] == pytest.approx(-65.0, abs=0.5)
    kept = load_cell_spec(DEMO, celsius=6.3, v_init_mV=-65.0, keep_stimuli=True)
    driven = run_isolated("tests.cell_workers:step_spikes", spec=kept, amp_nA=0.0,
                          tstop_ms=300.0)
    assert driven["spike_times_ms"]  # the demo's 0.4 nA IClamp makes it fire


def test_plain_demo_calibrates_with_its_stimuli_off():
    spec = load_cell_spec(DEMO, v_init_mV=-65.0)
    assert spec.celsius == 6.3 and spec.celsius_from.endswith("demo.hoc:40")  # as nrniv runs it
    cal = run_isolated("reducer.targets:find_rheobase_worker", spec=spec, dt_ms=0.025,
                       settle_ms=300.0)
    assert 10.0 < cal["input_resistance_MOhm"] < 200.0
    assert 0.05 < cal["rheobase_nA"] < 1.0
    assert len(cal["user_stimuli"]) == 2


def test_kept_stimuli_that_drive_the_cell_stop_calibration_with_one_message(tmp_path):
    # The demo without its NetStim: only the 0.4 nA IClamp, kept on purpose.
    text = DEMO.read_text()
    hoc = tmp_path / "demo_iclamp.hoc"
    hoc.write_text(text.split("dend[1] syn")[0] + "\ncelsius = 6.3\n")
    spec = load_cell_spec(hoc, v_init_mV=-65.0, keep_stimuli=True)
    assert spec.celsius == 6.3  # the file sets it; it must not be replaced by a default
    with pytest.raises(ReduceCellError) as err:
        run_isolated("reducer.targets:find_rheobase_worker", spec=spec, dt_ms=0.025,
                     settle_ms=300.0)
    message = str(err.value)
    assert "fires without any injected current" in message
    assert "IClamp[0] at soma(0.5)" in message and "--keep-stimuli" in message
    assert "Traceback" not in message.split("\n")[0]


def test_kept_netstim_input_is_refused_clearly():
    spec = load_cell_spec(DEMO, celsius=6.3, v_init_mV=-65.0, keep_stimuli=True)
    with pytest.raises(ReduceCellError, match="NetStim.*out of order"):
        run_isolated("reducer.targets:find_rheobase_worker", spec=spec, dt_ms=0.025,
                     settle_ms=300.0)


def test_celsius_is_read_through_the_files_a_wrapper_loads(tmp_path):
    # A demo whose cell is built by a menu procedure is reduced through a two-line wrapper;
    # the temperature set in the file it loads must still be found.
    wrapper = tmp_path / "wrapper.hoc"
    wrapper.write_text(f'load_file("{DEMO}")\n')
    spec = load_cell_spec(wrapper)
    assert spec.celsius == 6.3 and spec.celsius_from == f"{DEMO}:40"
    assert load_cell_spec(wrapper, celsius=30.0).celsius_from == "given"
