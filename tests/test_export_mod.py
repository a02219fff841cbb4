"""mod_export without NEURON simulations: generated NMODL text, names, hoc template, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mod_export import (
    check_nmodl_syntax,
    compile_mechanisms,
    export_reduced_cell,
    merge_mechanisms,
    render_axial_mod,
    write_axial_mod,
)
from mod_export.naming import sanitize_identifier
from reducer.errors import ExportError
from reducer.hybrid import GatedAxialCurrent

jax.config.update("jax_enable_x64", True)

MECHS = Path(__file__).resolve().parent.parent / "models" / "ca1_n120" / "mechanisms"


def random_model(n_states: int, n_hidden: int, seed: int = 0,
                 readout_nA: float = 0.05) -> GatedAxialCurrent:
    """A model with every weight switched on: log-spaced tau (0.2-300 ms) modulated by V.

    numpy draws (not jax.random) keep this cheap: no compilation per shape.
    """
    rng = np.random.default_rng(seed)
    k, h = n_states, n_hidden
    taus = np.geomspace(0.2, 300.0, k) if k > 1 else np.array([5.0])
    return GatedAxialCurrent(
        w_in=jnp.asarray(rng.normal(size=h)), b_in=jnp.asarray(rng.normal(size=h)),
        a_lin=jnp.asarray(rng.uniform(0.5, 2.0, size=k)), a0=jnp.asarray(rng.normal(size=k)),
        A=jnp.asarray(rng.normal(size=(k, h))),
        s_lin=jnp.asarray(0.3 * rng.normal(size=k)), s0=jnp.asarray(np.log(taus - 0.05)),
        S=jnp.asarray(0.5 * rng.normal(size=(k, h))),
        w=jnp.asarray(readout_nA * rng.normal(size=k)),
        q=jnp.asarray(0.4 * readout_nA * rng.normal(size=k)),
        w_u=jnp.asarray(-0.2 * readout_nA), bias_nA=jnp.asarray(0.06 * readout_nA),
        v_offset_mV=-65.0, v_scale_mV=20.0, tau_min_ms=0.05,
    )


def ca1_soma_description() -> dict:
    """CA1 n120 soma as reducer.nmodl2jax.describe_soma reports it (values from biophysics)."""
    return {
        "sections": ["ca1_n120.soma[0]"], "area_um2": 1340.34, "L_um": 20.655, "diam_um": 20.655,
        "cm_uF_per_cm2": 1.0, "Ra_ohm_cm": 100.0, "celsius_degC": 36.0, "dt_ms": 0.025,
        "mechanisms": [
            {"name": "kdr_p08", "mod_file": str(MECHS / "kdr_p08.mod"),
             "range": {"gbar": 0.005, "vt": -60.0}, "global": {}},
            {"name": "km_p08", "mod_file": str(MECHS / "km_p08.mod"),
             "range": {"gbar": 7e-05, "taumax": 1000.0}, "global": {}},
            {"name": "leak_p08", "mod_file": str(MECHS / "leak_p08.mod"),
             "range": {"g": 0.0001, "e": -70.0}, "global": {}},
            {"name": "na_p08", "mod_file": str(MECHS / "na_p08.mod"),
             "range": {"gbar": 0.05, "vt": -60.0}, "global": {}},
        ],
        "ions": {"k": {"ek": -90.0, "ki": 54.4, "ko": 2.5},
                 "na": {"ena": 50.0, "nai": 10.0, "nao": 140.0}},
        "ion_styles": {"k": {"style": 8, "charge": 1.0, "ci0": 54.4, "co0": 2.5},
                       "na": {"style": 8, "charge": 1.0, "ci0": 10.0, "co0": 140.0}},
    }


def hh_soma_description(area_um2: float = 1256.6370614359173) -> dict:
    """A soma with NEURON's built-in hh (no mod file) at 6.3 degC."""
    d = float(np.sqrt(area_um2 / np.pi))
    return {
        "sections": ["soma"], "area_um2": area_um2, "L_um": d, "diam_um": d,
        "cm_uF_per_cm2": 1.0, "Ra_ohm_cm": 100.0, "celsius_degC": 6.3,
        "mechanisms": [{"name": "hh", "mod_file": None,
                        "range": {"gnabar": 0.12, "gkbar": 0.036, "gl": 0.0003, "el": -54.3},
                        "global": {}, "usetable": 1.0}],
        "ions": {"k": {"ek": -77.0}, "na": {"ena": 50.0}},
        "ion_styles": {"k": {"style": 8}, "na": {"style": 8}},
    }


@pytest.mark.parametrize("use_table", [False, True])
@pytest.mark.parametrize("n_states", [1, 10, 40])
@pytest.mark.parametrize("n_hidden", [0, 1, 8, 16])
def test_generated_mod_parses_with_short_lines(n_states, n_hidden, use_table):
    name, text = render_axial_mod(random_model(n_states, n_hidden), "a_rather_long_cell_name" * 4,
                                  use_table=use_table)
    check_nmodl_syntax(text, name)
    assert max(len(line) for line in text.splitlines()) <= 100
    states = re.search(r"STATE \{\n(.*?)\n\}", text, re.S).group(1).split()
    assert states == [f"zst{k + 1}x" for k in range(n_states)]
    assert ("\n    TABLE " in text) == use_table
    for construct in ("VERBATIM", "POINTER", "GLOBAL"):
        assert construct not in text
    assert "THREADSAFE" in text and "METHOD cnexp" in text


def test_zero_hidden_units_is_a_valid_model():
    model = random_model(3, 0)
    z_inf, tau = model.gates(-60.0)
    assert z_inf.shape == (3,) and bool(jnp.all(jnp.isfinite(tau)))
    _, text = render_axial_mod(model)
    code = text.split("ENDCOMMENT")[1]
    assert "tanh" not in code and "hid1x" not in code


def test_mechanism_name_is_valid_unique_and_stable():
    model = random_model(4, 3)
    name, text = render_axial_mod(model, "ca1_n120")
    assert re.fullmatch(r"ax_ca1_n120_[0-9a-f]{8}", name)
    assert f"POINT_PROCESS {name}" in text
    assert render_axial_mod(model, "ca1_n120")[0] == name
    nudged = eqx.tree_at(lambda m: m.w, model, model.w.at[0].set(np.nextafter(model.w[0], 1)))
    assert render_axial_mod(nudged, "ca1_n120")[0] != name
    assert render_axial_mod(model, "ca1_n120", use_table=True)[0] != name
    odd, _ = render_axial_mod(model, "5 cells/über-net")
    assert re.fullmatch(r"ax_[A-Za-z][A-Za-z0-9_]*_[0-9a-f]{8}", odd)
    assert sanitize_identifier("sigmoid") != "sigmoid"


def test_weights_are_written_at_full_precision():
    model = random_model(5, 4)
    _, text = render_axial_mod(model)
    literals = {float(x) for x in re.findall(r"(?<![\w.])\d+\.\d+(?:e[-+]?\d+)?", text)}
    for field in ("w_in", "b_in", "a_lin", "a0", "A", "s_lin", "s0", "S", "w", "q", "w_u",
                  "bias_nA"):
        for x in np.ravel(np.asarray(getattr(model, field))):
            if x != 0.0:
                assert abs(float(x)) in literals, (field, x)


def test_nan_weights_raise_export_error(tmp_path):
    model = random_model(3, 2)
    bad = eqx.tree_at(lambda m: m.S, model, model.S.at[1, 0].set(jnp.nan))
    with pytest.raises(ExportError, match="'S' has 1 NaN"):
        write_axial_mod(bad, tmp_path)
    assert not list(tmp_path.iterdir())


def test_missing_or_mismatched_soma_mod_file_raises(tmp_path):
    desc = ca1_soma_description()
    desc["mechanisms"][0]["mod_file"] = str(tmp_path / "nowhere" / "kdr_p08.mod")
    with pytest.raises(ExportError, match="nowhere/kdr_p08.mod does not exist"):
        export_reduced_cell(random_model(2, 1), desc, tmp_path / "out", v_init_mV=-70.0,
                            compile=False)
    desc = ca1_soma_description()
    desc["mechanisms"][0]["mod_file"] = str(MECHS / "km_p08.mod")
    with pytest.raises(ExportError, match="defines 'km_p08' instead"):
        export_reduced_cell(random_model(2, 1), desc, tmp_path / "out", v_init_mV=-70.0,
                            compile=False)


def test_bad_soma_values_raise(tmp_path):
    desc = ca1_soma_description()
    desc["area_um2"] = float("nan")
    with pytest.raises(ExportError, match="area_um2"):
        export_reduced_cell(random_model(2, 1), desc, tmp_path, v_init_mV=-70.0, compile=False)
    desc = ca1_soma_description()
    desc["mechanisms"][1]["range"] = {"gbar; quit()": 1.0}
    with pytest.raises(ExportError, match="not a valid NEURON identifier"):
        export_reduced_cell(random_model(2, 1), desc, tmp_path, v_init_mV=-70.0, compile=False)


def test_export_writes_files_and_json_without_compiling(tmp_path):
    res = export_reduced_cell(random_model(3, 2), ca1_soma_description(), tmp_path / "out",
                              cell_name="ca1_n120", v_init_mV=-70.4, compile=False)
    info = json.loads((tmp_path / "out" / "export.json").read_text())
    assert info == res.info
    assert info["hoc_file"] == f"{info['template']}.hoc"
    assert info["mechanisms_dir"] == "mechanisms" and info["soma_section"] == "soma"
    assert (info["n_states"], info["n_hidden"], info["use_table"]) == (3, 2, False)
    assert (info["v_init_mV"], info["dt_ms"], info["celsius_degC"]) == (-70.4, 0.025, 36.0)
    assert info["created_by"].startswith("reduce-cell ")
    mods = sorted(p.name for p in (tmp_path / "out" / "mechanisms").glob("*.mod"))
    assert mods == sorted([f"{info['mechanism']}.mod", "kdr_p08.mod", "km_p08.mod",
                           "leak_p08.mod", "na_p08.mod"])
    hoc = res.hoc_file.read_text()
    assert f"begintemplate {info['template']}" in hoc
    assert "public soma, axial, all" in hoc
    assert f"axial = new {info['mechanism']}(0.5)" in hoc
    for line in ("gbar_na_p08 = 0.05", "taumax_km_p08 = 1000.0", "ena = 50.0", "ek = -90.0",
                 'ion_style("na_ion", 0, 1, 0, 0, 0)'):
        assert line in hoc
    diam = float(re.search(r"diam = (\S+)", hoc).group(1))
    assert np.pi * diam * diam == pytest.approx(1340.34, rel=1e-14)
    assert (tmp_path / "out" / "build_reduced_cell.py").is_file()


def test_reexport_replaces_the_previous_export(tmp_path):
    first = export_reduced_cell(random_model(3, 2, seed=1), hh_soma_description(), tmp_path,
                                cell_name="bs", v_init_mV=-65.0, compile=False)
    second = export_reduced_cell(random_model(3, 2, seed=2), hh_soma_description(), tmp_path,
                                 cell_name="bs", v_init_mV=-65.0, compile=False)
    assert first.mechanism != second.mechanism
    assert [p.name for p in (tmp_path / "mechanisms").glob("*.mod")] == [second.mod_file.name]
    assert [p.name for p in tmp_path.glob("*.hoc")] == [second.hoc_file.name]
    assert json.loads((tmp_path / "export.json").read_text())["mechanism"] == second.mechanism


def test_globals_set_only_where_they_differ_from_the_defaults(tmp_path):
    mod = tmp_path / "cadx.mod"
    mod.write_text(
        "NEURON {\n    SUFFIX cadx\n    USEION ca READ ica WRITE cai\n    GLOBAL taur, depth\n"
        "    RANGE gamma\n    THREADSAFE\n}\n"
        "PARAMETER {\n    taur = 80 (ms)\n    depth = 0.1 (um)\n    gamma = 0.05\n}\n"
        "ASSIGNED { ica (mA/cm2) }\nSTATE { cai (mM) }\n"
        "BREAKPOINT { SOLVE s METHOD cnexp }\nDERIVATIVE s { cai' = -ica * gamma - cai / taur }\n"
    )
    desc = hh_soma_description()
    desc["mechanisms"][0]["usetable"] = 0.0
    desc["mechanisms"].append({"name": "cadx", "mod_file": str(mod), "range": {"gamma": 0.02},
                               "global": {"taur": 80.0, "depth": 0.5}})
    desc["ions"]["ca"] = {"eca": 120.0, "cai": 1e-4, "cao": 2.0}
    desc["ion_styles"]["ca"] = {"style": 55, "ci0": 1e-4, "co0": 2.0}  # cinit=1, Nernst
    res = export_reduced_cell(random_model(2, 1), desc, tmp_path / "out", v_init_mV=-65.0,
                              compile=False)
    hoc = res.hoc_file.read_text()
    code = [ln.split("//")[0].strip() for ln in hoc.splitlines()]
    assert "depth_cadx = 0.5" in code
    assert "taur_cadx = 80.0" not in code and "// taur_cadx = 80.0: equals the mod default" in hoc
    assert "gamma_cadx = 0.02" in code
    assert "usetable_hh = 0.0" in code
    assert 'ion_style("ca_ion", 3, 2, 1, 0, 1)' in code
    assert "cai0_ca_ion = 0.0001" in code and "cao0_ca_ion" not in hoc
    assert "celsius" not in "\n".join(code)  # process-wide: left to the script


def test_compile_failure_names_the_file_and_nocmodl_message(tmp_path):
    (tmp_path / "broken_x.mod").write_text(
        "NEURON { SUFFIX broken_x }\nASSIGNED { v }\nBREAKPOINT { v = ( }\n")
    with pytest.raises(ExportError) as err:
        compile_mechanisms(tmp_path)
    message = str(err.value)
    assert "broken_x.mod" in message and "line 3" in message


def _nmodl_binary() -> Path | None:
    import importlib.util

    data = Path(importlib.util.find_spec("neuron").origin).parent / ".data"
    exe = data / "bin" / "nmodl"
    return exe if exe.is_file() else None


@pytest.mark.parametrize("use_table", [False, True])
def test_coreneuron_code_generator_accepts_the_mod(tmp_path, use_table):
    import os
    import subprocess

    exe = _nmodl_binary()
    if exe is None:
        pytest.skip("this NEURON wheel ships no nmodl transpiler")
    path = write_axial_mod(random_model(4, 3), tmp_path, "cn", use_table=use_table)
    env = dict(os.environ, NMODLHOME=str(exe.parent.parent))
    proc = subprocess.run([str(exe), path.name, "--coreneuron", "-o", "cpp"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "cpp" / f"{path.stem}.cpp").is_file()
    assert "error" not in (proc.stdout + proc.stderr).lower()


def test_merge_keeps_shared_mods_once_and_refuses_conflicts(tmp_path):
    a = export_reduced_cell(random_model(2, 1, seed=1), ca1_soma_description(), tmp_path / "a",
                            "ca1", v_init_mV=-70.0, compile=False)
    b = export_reduced_cell(random_model(2, 1, seed=2), ca1_soma_description(), tmp_path / "b",
                            "ca1", v_init_mV=-70.0, use_table=True, compile=False)
    merged = merge_mechanisms([a.out_dir, b.out_dir], tmp_path / "lib", compile=False)
    assert sorted(p.name for p in merged.glob("*.mod")) == sorted(
        [a.mod_file.name, b.mod_file.name, "kdr_p08.mod", "km_p08.mod", "leak_p08.mod",
         "na_p08.mod"])
    (b.mechanisms_dir / "km_p08.mod").write_text(
        (b.mechanisms_dir / "km_p08.mod").read_text().replace("taumax = 1000", "taumax = 900"))
    with pytest.raises(ExportError, match="define the same mechanism 'km_p08' differently"):
        merge_mechanisms([a.out_dir, b.out_dir], tmp_path / "lib2", compile=False)


def test_cell_names_cannot_break_the_generated_files(tmp_path):
    name = "evil\nendtemplate x\n}"
    res = export_reduced_cell(random_model(2, 1), hh_soma_description(), tmp_path, name,
                              v_init_mV=-65.0, compile=False)
    hoc = res.hoc_file.read_text()
    lines = hoc.splitlines()
    assert [ln for ln in lines if ln.startswith("endtemplate")] == [f"endtemplate {res.template}"]
    assert all(ln.startswith("//") for ln in lines if "evil" in ln and "ax_evil" not in ln
               and "Reduced_evil" not in ln)
    check_nmodl_syntax(res.mod_file.read_text(), res.mechanism)
    assert res.mod_file.read_text().splitlines()[0].startswith("TITLE Learned axial current")
