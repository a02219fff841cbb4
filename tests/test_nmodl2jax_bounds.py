"""States with bounds (``z FROM 0 TO 1``) translate and match NEURON; arrays stay refused.

Published .mod files bound their gating states (Hay et al. 2011's SK channel among them);
the translator took the bounds for an array length and refused the file. Our own SK, HVA
calcium and calcium-pool mechanisms (tests/mod_calcium) use bounds with integers, reals and
units, in a firing soma with NEURON's hh.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reducer.errors import NmodlTranslationError
from reducer.isolated import run_isolated
from reducer.nmodl2jax import build_membrane, simulate_single_compartment
from reducer.nmodl2jax.modinfo import read_mod
from tests.single_compartment import compile_mods, spike_times

MODS = sorted((Path(__file__).resolve().parent / "mod_calcium").glob("*.mod"))
DT_MS = 0.025


def test_bounded_states_are_read_as_states():
    info = read_mod(Path(__file__).parent / "mod_calcium" / "sk_t.mod")
    assert info.states == ["z"]
    hva = read_mod(Path(__file__).parent / "mod_calcium" / "cahva_t.mod")
    assert hva.states == ["m", "h"]


def test_state_array_with_bounds_is_still_refused(tmp_path):
    mod = tmp_path / "arr.mod"
    mod.write_text("NEURON { SUFFIX arr }\nSTATE { m[3] FROM 0 TO 1 }\n")
    with pytest.raises(NmodlTranslationError, match="STATE array m"):
        read_mod(mod)


def test_bounded_states_in_a_firing_soma_match_neuron():
    n = int(round(150.0 / DT_MS))
    stim = np.where((np.arange(n) * DT_MS >= 20.0) & (np.arange(n) * DT_MS < 120.0), 0.4, 0.0)
    lib = compile_mods(MODS)
    run = run_isolated(
        "tests.single_compartment:neuron_soma_run", lib=str(lib),
        mod_files=[str(m) for m in MODS],
        mechanisms={"hh": {}, "cahva_t": {"gbar": 0.0002}, "capool_t": {"tau": 50.0},
                    "sk_t": {"gbar": 0.0005}},
        globals_={}, ion_values={}, area_um2=1256.6, cm=1.0, celsius=6.3,
        dt_ms=DT_MS, v_init_mV=-65.0, i_stim_nA=list(stim))
    v_jax = np.asarray(simulate_single_compartment(
        build_membrane(run["desc"]), run["desc"]["area_um2"], run["desc"]["cm_uF_per_cm2"],
        run["i_stim"], DT_MS, -65.0))
    t = np.arange(len(run["v"])) * DT_MS
    s_nrn, s_jax = spike_times(t, run["v"]), spike_times(t, v_jax)
    assert len(s_nrn) >= 3, "the soma should fire repetitively (SK shapes its rhythm)"
    assert len(s_jax) == len(s_nrn)
    np.testing.assert_allclose(s_jax, s_nrn, atol=0.01)
    before = t < s_nrn[0] - 1.0
    assert np.max(np.abs(v_jax[before] - run["v"][before])) < 1e-6


OLDSTYLE = sorted((Path(__file__).resolve().parent / "mod_oldstyle").glob("*.mod"))


def test_oldstyle_return_verbatim_and_state_tolerance_match_neuron():
    # `VERBATIM return 0; ENDVERBATIM` ending a PROCEDURE, `ca (mM) <1e-5>`, a file-scope
    # LOCAL, an RCS id in VERBATIM at file scope and a recorder reading t were refused
    # though none changes the voltage in fixed-step NEURON.
    mods = OLDSTYLE + MODS
    n = int(round(150.0 / DT_MS))
    stim = np.where((np.arange(n) * DT_MS >= 20.0) & (np.arange(n) * DT_MS < 120.0), 0.3, 0.0)
    run = run_isolated(
        "tests.single_compartment:neuron_soma_run", lib=str(compile_mods(mods)),
        mod_files=[str(m) for m in mods],
        mechanisms={"hh": {"gkbar": 0.0}, "kd_old": {}, "cahva_t": {"gbar": 0.0002},
                    "cad_tol": {}, "vpeak_obs": {}},
        globals_={}, ion_values={}, area_um2=1256.6, cm=1.0, celsius=6.3, dt_ms=DT_MS,
        v_init_mV=-65.0, i_stim_nA=list(stim))
    v_jax = np.asarray(simulate_single_compartment(
        build_membrane(run["desc"]), run["desc"]["area_um2"], run["desc"]["cm_uF_per_cm2"],
        run["i_stim"], DT_MS, -65.0))
    t = np.arange(len(run["v"])) * DT_MS
    s_nrn, s_jax = spike_times(t, run["v"]), spike_times(t, v_jax)
    assert len(s_nrn) >= 3 and len(s_jax) == len(s_nrn)
    np.testing.assert_allclose(s_jax, s_nrn, atol=0.01)
    before = t < s_nrn[0] - 1.0
    assert np.max(np.abs(v_jax[before] - run["v"][before])) < 1e-6


def test_verbatim_that_is_c_code_is_refused_naming_its_line(tmp_path):
    mod = tmp_path / "mid_return.mod"
    text = ((Path(__file__).resolve().parent / "mod_oldstyle" / "kd_oldstyle.mod").read_text()
            .replace("    n = n + nexp * (ninf - n)\n    VERBATIM\n    return 0;\n    ENDVERBATIM",
                     "    VERBATIM\n    return 0;\n    ENDVERBATIM\n    n = n + nexp * (ninf - n)"))
    mod.write_text(text)
    line = text.splitlines().index("    VERBATIM") + 1
    desc = {"area_um2": 100.0, "celsius_degC": 6.3, "cm_uF_per_cm2": 1.0,
            "mechanisms": [{"name": "kd_old", "mod_file": str(mod), "range": {}, "global": {}}],
            "ions": {"k": {"ek": -77.0}}, "ion_styles": {}}
    with pytest.raises(NmodlTranslationError, match=rf"mid_return.mod:{line}: VERBATIM: not "
                                                    "translatable: this block is C code"):
        build_membrane(desc)


@pytest.mark.parametrize("usetable", [True, False])
def test_global_set_inside_a_tabulated_procedure_keeps_its_value(usetable):
    # Hu et al. 2009's channels set their GLOBAL tadj only inside a tabulated trates(); with
    # tables on, NEURON never runs that body after building the table, and tadj keeps the
    # value the build left. The translation lost it (tadj = 0: no Na current at all).
    mods = [Path(__file__).resolve().parent / "mod_oldstyle" / "na_tadj_table.mod"]
    n = int(round(100.0 / DT_MS))
    stim = np.where((np.arange(n) * DT_MS >= 10.0) & (np.arange(n) * DT_MS < 90.0), 0.15, 0.0)
    run = run_isolated(
        "tests.single_compartment:neuron_soma_run", lib=str(compile_mods(mods)),
        mod_files=[str(m) for m in mods],
        mechanisms={"hh": {"gnabar": 0.0}, "na_tadj": {}},
        globals_={}, ion_values={}, area_um2=1256.6, cm=1.0, celsius=12.0, dt_ms=DT_MS,
        v_init_mV=-65.0, i_stim_nA=list(stim), usetable=usetable)
    assert run["desc"]["mechanisms"][-1]["usetable"] == float(usetable)
    v_jax = np.asarray(simulate_single_compartment(
        build_membrane(run["desc"]), run["desc"]["area_um2"], run["desc"]["cm_uF_per_cm2"],
        run["i_stim"], DT_MS, -65.0))
    t = np.arange(len(run["v"])) * DT_MS
    s_nrn, s_jax = spike_times(t, run["v"]), spike_times(t, v_jax)
    assert len(s_nrn) >= 3 and len(s_jax) == len(s_nrn)
    np.testing.assert_allclose(s_jax, s_nrn, atol=0.01)
    assert np.max(np.abs(v_jax - run["v"])) < 1e-6
