"""cell.json / biophysics → CellSpec: validation, overrides, hashing (pure Python, no NEURON)."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reducer.cell import CellSpec, load_cell_spec
from reducer.errors import CellLoadError, MechanismError

DATA = Path(__file__).parent / "data" / "cells"
ROOT = Path(__file__).resolve().parent.parent


def _copy_model(models_dir: Path, name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(models_dir / name, target)
    return target


def test_ca1_manifest(models_dir):
    spec = load_cell_spec(models_dir / "ca1_n120")
    assert isinstance(spec, CellSpec)
    assert spec.kind == "swc" and spec.name == "ca1_n120"
    assert spec.root == (models_dir / "ca1_n120").resolve()
    assert spec.mechanisms_dir == spec.root / "mechanisms"
    assert [p.name for p in spec.mod_files] == [
        "kdr_p08.mod", "km_p08.mod", "leak_p08.mod", "na_p08.mod"]
    assert (spec.celsius, spec.v_init_mV, spec.dt_ms) == (36.0, -70.0, 0.025)
    assert spec.biophysics_data["nseg"] == {
        "rule": "d_lambda", "d_lambda": 0.1, "frequency_Hz": 100.0}
    # a cell.json path works as well as its folder
    assert load_cell_spec(models_dir / "ca1_n120" / "cell.json") == spec


def test_spec_pickles_and_hash_follows_content(models_dir, tmp_path):
    spec = load_cell_spec(models_dir / "ca1_n120")
    clone = pickle.loads(pickle.dumps(spec))
    assert clone == spec and clone.content_hash() == spec.content_hash()
    assert clone.biophysics_data == spec.biophysics_data

    moved = load_cell_spec(_copy_model(models_dir, "ca1_n120", tmp_path))
    assert moved.content_hash() == spec.content_hash()  # moving the folder changes nothing
    mod = moved.root / "mechanisms" / "leak_p08.mod"
    mod.write_text(mod.read_text() + "\n: edited\n")
    assert load_cell_spec(moved.root).content_hash() != spec.content_hash()
    assert load_cell_spec(models_dir / "ca1_n120", celsius=30).content_hash() != (
        spec.content_hash())


def test_overrides(models_dir):
    spec = load_cell_spec(models_dir / "ca1_n120", celsius=22, dt_ms=0.05, name="x")
    assert (spec.celsius, spec.dt_ms, spec.v_init_mV, spec.name) == (22.0, 0.05, -70.0, "x")
    with pytest.raises(CellLoadError, match="unknown option 'celcius'"):
        load_cell_spec(models_dir / "ca1_n120", celcius=22)


def test_swc_file_with_biophysics(models_dir):
    swc = DATA / "swc" / "morph_minimal.swc"
    spec = load_cell_spec(swc, biophysics=DATA / "hh_pas.json")
    assert spec.kind == "swc" and spec.name == "morph_minimal" and spec.mod_files == ()
    with pytest.raises(CellLoadError, match="needs a biophysics file"):
        load_cell_spec(swc)
    mech_spec = load_cell_spec(
        models_dir / "ca1_n120" / "morph_ca1_n120_single_point_soma.swc",
        biophysics=models_dir / "ca1_n120" / "biophysics.json",
    )
    # .mod files beside the morphology's folder are found (mechanisms/ subfolder)
    assert len(mech_spec.mod_files) == 4


def test_hoc_and_template_files(models_dir):
    bs = models_dir / "ball_and_stick"
    plain = load_cell_spec(bs / "ball_and_stick.hoc")
    assert plain.kind == "hoc" and plain.hoc_file == (bs / "ball_and_stick.hoc").resolve()
    assert plain.mechanisms_dir is None
    tmpl_file = bs / "template" / "ball_and_stick_template.hoc"
    tmpl = load_cell_spec(tmpl_file, template="BallAndStick", template_args=[300])
    assert tmpl.kind == "template" and tmpl.template_args == (300,)
    assert tmpl.load_files == (tmpl_file.resolve(),)
    from_folder = load_cell_spec(bs / "template")
    assert from_folder.template == "BallAndStick" and from_folder.soma == "somatic"


def _manifest(tmp_path: Path, data: dict) -> Path:
    (tmp_path / "cell.json").write_text(json.dumps(data))
    return tmp_path


def test_manifest_errors(tmp_path, models_dir):
    swc = DATA / "swc" / "morph_minimal.swc"
    shutil.copy(swc, tmp_path / "m.swc")
    shutil.copy(DATA / "hh_pas.json", tmp_path / "b.json")
    (tmp_path / "c.hoc").write_text("create soma\n")
    with pytest.raises(CellLoadError, match="exactly one of"):
        load_cell_spec(_manifest(tmp_path, {"morphology": "m.swc", "hoc_file": "c.hoc"}))
    with pytest.raises(CellLoadError, match="exactly one of"):
        load_cell_spec(_manifest(tmp_path, {"name": "x"}))
    with pytest.raises(CellLoadError, match=r"morphology .*nope\.swc does not exist"):
        load_cell_spec(_manifest(tmp_path, {"morphology": "nope.swc", "biophysics": "b.json"}))
    with pytest.raises(CellLoadError, match="unknown key"):
        load_cell_spec(_manifest(tmp_path, {"hoc_file": "c.hoc", "morphologie": "m.swc"}))
    with pytest.raises(CellLoadError, match="needs 'load_files'"):
        load_cell_spec(_manifest(tmp_path, {"template": "Cell"}))
    (tmp_path / "cell.json").write_text('{"hoc_file": "c.hoc",\n "soma": }\n')
    with pytest.raises(CellLoadError, match=r"cell\.json:2: invalid JSON"):
        load_cell_spec(tmp_path)
    with pytest.raises(CellLoadError, match="does not exist"):
        load_cell_spec(tmp_path / "missing_folder")
    with pytest.raises(CellLoadError, match="without cell.json"):
        load_cell_spec(DATA)


def _bio(tmp_path: Path, bio: dict, **manifest) -> Path:
    shutil.copy(DATA / "swc" / "morph_minimal.swc", tmp_path / "m.swc")
    (tmp_path / "b.json").write_text(json.dumps(bio))
    return _manifest(tmp_path, {"morphology": "m.swc", "biophysics": "b.json", **manifest})


def test_missing_mechanism_is_caught_before_neuron(tmp_path, models_dir):
    shutil.copytree(models_dir / "ca1_n120" / "mechanisms", tmp_path / "mods")
    folder = _bio(
        tmp_path, {"sections": {"soma": {"insert": {"nax": {"gbar": 0.1}}}}}, mechanisms="mods")
    with pytest.raises(MechanismError) as err:
        load_cell_spec(folder)
    msg = str(err.value)
    assert "'nax'" in msg and str(tmp_path / "mods") in msg and "b.json" in msg
    # a point process is not insertable either
    _bio(tmp_path, {"sections": {"soma": {"insert": {"IClamp": {}}}}})
    with pytest.raises(MechanismError, match="'IClamp', which is a POINT_PROCESS"):
        load_cell_spec(folder)


def test_biophysics_format_errors(tmp_path):
    cases = [
        ({"sections": {"soma": {"Ra": "high"}}}, r"sections\.soma\.Ra: expected a number"),
        ({"sections": {"soma": {"gbar": 1}}}, r"unknown key\(s\) \['gbar'\]"),
        ({"sections": {"soma": {"insert": {"pas": 3}}}}, r"insert\.pas: expected parameter"),
        ({"nseg": {"rule": "lambda"}, "sections": {"all": {}}}, "nseg must be"),
        ({"nseg": {"rule": "fixed", "nseg": 0}, "sections": {"all": {}}}, "positive integer"),
        ({"section": {}}, "unknown key"),
    ]
    for bio, pattern in cases:
        with pytest.raises(CellLoadError, match=pattern):
            load_cell_spec(_bio(tmp_path, bio))
    (tmp_path / "b.json").write_text('{"sections":\n {"all": {"Ra": 1,}}}')
    with pytest.raises(CellLoadError, match=r"b\.json:2: invalid JSON"):
        load_cell_spec(tmp_path)


def test_loading_a_spec_does_not_import_neuron(models_dir):
    code = (
        "import sys; from reducer.cell import load_cell_spec; "
        f"s = load_cell_spec({str(models_dir / 'ca1_n120')!r}); s.content_hash(); "
        "assert 'neuron' not in sys.modules, 'neuron imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_yaml_biophysics_without_pyyaml(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` now fails as if absent
    (tmp_path / "b.yaml").write_text("sections:\n  all:\n    Ra: 100\n")
    shutil.copy(DATA / "swc" / "morph_minimal.swc", tmp_path / "m.swc")
    with pytest.raises(CellLoadError, match=r"b\.yaml: reading YAML needs PyYAML"):
        load_cell_spec(tmp_path / "m.swc", biophysics=tmp_path / "b.yaml")


def test_yaml_biophysics(tmp_path):
    pytest.importorskip("yaml")
    (tmp_path / "b.yaml").write_text("sections:\n  all:\n    Ra: 100\n    insert: {pas: {}}\n")
    shutil.copy(DATA / "swc" / "morph_minimal.swc", tmp_path / "m.swc")
    spec = load_cell_spec(tmp_path / "m.swc", biophysics=tmp_path / "b.yaml")
    assert spec.biophysics_data["sections"]["all"] == {"Ra": 100.0, "insert": {"pas": {}},
                                                       "set": {}}
