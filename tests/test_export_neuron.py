"""mod_export in NEURON: compiled exports loaded as export.json says, JAX == NEURON.

Compiles three libraries (about 10 s each): a CA1 n120 soma export with a TABLE, an hh soma
export without, and one library of four extra network sizes. All NEURON work runs in fresh
processes (``run_isolated``); the workers below are what those processes execute.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mod_export import export_reduced_cell, merge_mechanisms, state_name, write_axial_mod
from mod_export.axial_mod import TableSpec
from mod_export.compile import compile_mechanisms
from reducer.errors import ExportError
from reducer.hybrid import GatedAxialCurrent, as_exported
from reducer.isolated import run_isolated
from reducer.metrics import spike_times
from tests.test_export_mod import ca1_soma_description, hh_soma_description, random_model

jax.config.update("jax_enable_x64", True)

DT_MS = 0.025
TSTOP_MS = 200.0
VARIANTS = [(1, 0, False), (1, 0, True), (40, 16, False), (40, 16, True)]
TABLE = dataclasses.asdict(TableSpec())  # export.json's "table" entry of a default TABLE export


# ---------------------------------------------------------------- NEURON side (child process)

def _record(h, pp, n_states: int) -> dict:
    vecs = {"i": h.Vector().record(pp._ref_i)}
    for k in range(n_states):
        vecs[state_name(k)] = h.Vector().record(getattr(pp, f"_ref_{state_name(k)}"))
    return vecs


def _arrays(vecs: dict) -> dict:
    return {name: np.array(vec) for name, vec in vecs.items()}


def record_variants(mod_dir: str, names: list[str], n_states: list[int],
                    v_wave_mV: list[float]) -> dict:
    """Voltage-clamp a soma along ``v_wave_mV``; record every variant's states and current."""
    from neuron import h, load_mechanisms

    assert load_mechanisms(mod_dir)
    soma = h.Section(name="soma")
    soma.L = soma.diam = 20.0
    clamp = h.SEClamp(soma(0.5))
    clamp.rs, clamp.dur1 = 1e-3, 1e9
    wave = h.Vector(v_wave_mV)
    wave.play(clamp._ref_amp1, DT_MS)
    pps = [getattr(h, name)(soma(0.5)) for name in names]
    recs = [_record(h, pp, k) for pp, k in zip(pps, n_states, strict=True)]
    v = h.Vector().record(soma(0.5)._ref_v)
    h.dt = DT_MS
    h.finitialize(v_wave_mV[0])
    while h.t < DT_MS * (len(v_wave_mV) - 1) - 1e-9:
        h.fadvance()
    return {"v": np.array(v), "pps": [_arrays(r) for r in recs]}


def record_exports(ca1_dir: str, hh_dir: str, hh_stim_nA: list[float]) -> dict:
    """Two CA1 cells (loaded exactly as the issue describes) and one hh cell (loaded by the
    export's own build_reduced_cell.py) in one process; record v, states, currents."""
    from neuron import h, load_mechanisms

    info = json.loads((Path(ca1_dir) / "export.json").read_text())
    load_mechanisms(str(Path(ca1_dir) / info["mechanisms_dir"]))
    h.load_file(str(Path(ca1_dir) / info["hoc_file"]))
    template = getattr(h, info["template"])
    ca1_cells = [template(), template()]

    builder_file = Path(hh_dir) / "build_reduced_cell.py"
    spec = importlib.util.spec_from_file_location("hh_builder", builder_file)
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    hh_cell = builder.build(hh_dir)  # sets celsius = 6.3 (Pospischil channels ignore it)
    h.usetable_hh = 0  # exact hh rates, as in the JAX soma below
    hh_info = builder.read_export(hh_dir)

    out: dict = {"ca1": [], "hh": None, "celsius": h.celsius}
    stims = []
    for cell, amp in zip(ca1_cells, (0.25, 0.6), strict=True):
        soma = getattr(cell, info["soma_section"])
        stim = h.IClamp(soma(0.5))
        stim.delay, stim.dur, stim.amp = 20.0, 150.0, amp
        stims.append(stim)
    hh_stim = h.IClamp(hh_cell.soma(0.5))
    hh_stim.delay, hh_stim.dur = 0.0, 1e9
    play = h.Vector(hh_stim_nA)
    play.play(hh_stim._ref_amp, DT_MS)

    recs = []
    for cell, n in [(c, info["n_states"]) for c in ca1_cells] + [(hh_cell, hh_info["n_states"])]:
        soma, pp = cell.soma, cell.axial
        rec = _record(h, pp, n)
        rec["v"] = h.Vector().record(soma(0.5)._ref_v)
        recs.append(rec)
    rec_stim = h.Vector().record(hh_stim._ref_i)
    h.dt = DT_MS
    h.finitialize(info["v_init_mV"])  # one process-wide v_init for all three cells
    while h.t < TSTOP_MS - 1e-9:
        h.fadvance()
    for cell, rec in zip(ca1_cells + [hh_cell], recs, strict=True):
        soma = cell.soma
        entry = _arrays(rec)
        entry["area_um2"] = soma(0.5).area()
        entry["nseg"] = soma.nseg
        entry["mechs"] = sorted(soma.psection()["density_mechs"])
        entry["axial_name"] = cell.axial.hname()
        (out["ca1"].append(entry) if cell is not hh_cell else out.__setitem__("hh", entry))
    out["hh"]["i_stim_nA"] = np.array(rec_stim)
    return out


def run_merged(lib_dir: str, export_dirs: list[str]) -> list[dict]:
    """Load one merged library, then each export's template; simulate one cell of each."""
    from neuron import h, load_mechanisms

    from mod_export.loader import load_template

    assert load_mechanisms(lib_dir)
    cells = [load_template(folder)() for folder in export_dirs]
    stims = []
    for cell in cells:
        stims.append(h.IClamp(cell.soma(0.5)))
        stims[-1].delay, stims[-1].dur, stims[-1].amp = 1.0, 1e9, 0.5
    recs = [h.Vector().record(cell.soma(0.5)._ref_v) for cell in cells]
    h.dt = DT_MS
    h.finitialize(-70.0)
    while h.t < 50.0 - 1e-9:
        h.fadvance()
    return [{"v": np.array(r), "axial": c.axial.hname()} for r, c in zip(recs, cells, strict=True)]


def run_network_threads(folder: str, n_cells: int = 8) -> dict:
    """``n_cells`` cells of one export, each driven differently, run with 1 and 2 threads."""
    from neuron import h

    from mod_export.loader import load_template

    template = load_template(folder)
    cells = [template() for _ in range(n_cells)]
    stims = []
    for k, cell in enumerate(cells):
        stims.append(h.IClamp(cell.soma(0.5)))
        stims[-1].delay, stims[-1].dur, stims[-1].amp = 1.0, 1e9, 0.1 + 0.05 * k
    recs = [h.Vector().record(cell.soma(0.5)._ref_v) for cell in cells]
    pc = h.ParallelContext()
    out = {}
    for n_threads in (1, 2):
        pc.nthread(n_threads)
        h.dt = DT_MS
        h.finitialize(-70.4)
        while h.t < 60.0 - 1e-9:
            h.fadvance()
        out[n_threads] = np.array([np.array(r) for r in recs])
    pc.nthread(1)
    return out


def run_network_coreneuron(folder: str, amps_nA: list[float], tstop_ms: float = 150.0) -> dict:
    """A small network of one export's cells (spikes recorded through ParallelContext), run
    in NEURON and then in CoreNEURON, in a process whose working directory has no x86_64/:
    CoreNEURON finds the export's library only through what ``load_template`` set."""
    import os

    from neuron import coreneuron, h

    from mod_export.loader import load_template

    template = load_template(folder)
    pc = h.ParallelContext()
    cells = [template() for _ in amps_nA]
    keep = []
    for gid, (cell, amp) in enumerate(zip(cells, amps_nA, strict=True)):
        pc.set_gid2node(gid, pc.id())
        nc = h.NetCon(cell.soma(0.5)._ref_v, None, sec=cell.soma)
        nc.threshold = -20.0
        pc.cell(gid, nc)
        stim = h.IClamp(cell.soma(0.5))
        stim.delay, stim.dur, stim.amp = 10.0, 1e9, amp
        keep += [nc, stim]
    t_vec, gid_vec = h.Vector(), h.Vector()
    pc.spike_record(-1, t_vec, gid_vec)
    h.CVode().cache_efficient(1)
    h.dt = DT_MS
    out = {"coreneuronlib": os.environ.get("CORENEURONLIB")}
    for label, enable in (("neuron", False), ("coreneuron", True)):
        coreneuron.enable, coreneuron.verbose = enable, 0
        t_vec.resize(0)
        gid_vec.resize(0)
        h.finitialize(-70.4)
        pc.set_maxstep(10)
        pc.psolve(tstop_ms)
        out[label] = sorted(zip(gid_vec.to_python(), t_vec.to_python(), strict=True))
    coreneuron.enable = False
    return out


# ---------------------------------------------------------------- JAX side

@eqx.filter_jit
def replay_states(model: GatedAxialCurrent, v_mV: jax.Array) -> jax.Array:
    """States from a recorded voltage: INITIAL z = z_inf(v0), then the model's own cnexp."""
    def step(z, v_new):
        z = model.advance(z, v_new, DT_MS)
        return z, z

    z0 = model.steady_state(v_mV[0])
    _, zs = jax.lax.scan(step, z0, v_mV[1:])
    return jnp.concatenate([z0[None], zs])


@eqx.filter_jit
def replay_current(model: GatedAxialCurrent, v_mV: jax.Array, z: jax.Array) -> jax.Array:
    return jax.vmap(model.current_nA)(v_mV, z)


def compare(model: GatedAxialCurrent, v_mV: np.ndarray, rec: dict,
            with_state_effect: bool = False) -> tuple[float, ...]:
    """(max |z_NEURON - z_JAX|, max |i_NEURON - i_JAX| nA) along a recorded voltage.

    NEURON computes the ELECTRODE_CURRENT of step n from v and z at the step's start, and the
    recorder stores it at the step's end: i[n + 1] = current(v[n], z[n]). With
    ``with_state_effect`` also the current error the state error causes (nA).
    """
    z_nrn = np.stack([rec[state_name(k)] for k in range(model.n_states)], axis=1)
    z_jax = np.asarray(replay_states(model, jnp.asarray(v_mV)))
    i_jax = np.asarray(replay_current(model, jnp.asarray(v_mV), jnp.asarray(z_nrn)))
    errors = (float(np.max(np.abs(z_nrn - z_jax))),
              float(np.max(np.abs(rec["i"][1:] - i_jax[:-1]))))
    if with_state_effect:
        i_exact = np.asarray(replay_current(model, jnp.asarray(v_mV), jnp.asarray(z_jax)))
        errors += (float(np.max(np.abs(rec["i"][1:] - i_exact[:-1]))),)
    return errors


def _hh_rates(v, celsius):
    """Hodgkin & Huxley (1952) rates in the modern sign convention (rest -65 mV), 1/ms."""
    def vtrap(x, y):
        small = jnp.abs(x / y) < 1e-6
        safe = jnp.where(small, 1.0, x)
        return jnp.where(small, y * (1 - x / y / 2), safe / jnp.expm1(safe / y))

    q10 = 3.0 ** ((celsius - 6.3) / 10.0)
    am, bm = 0.1 * vtrap(-(v + 40.0), 10.0), 4.0 * jnp.exp(-(v + 65.0) / 18.0)
    ah, bh = 0.07 * jnp.exp(-(v + 65.0) / 20.0), 1.0 / (jnp.exp(-(v + 35.0) / 10.0) + 1.0)
    an, bn = 0.01 * vtrap(-(v + 55.0), 10.0), 0.125 * jnp.exp(-(v + 65.0) / 80.0)
    inf = jnp.stack([am / (am + bm), ah / (ah + bh), an / (an + bn)])
    tau = 1.0 / (q10 * jnp.stack([am + bm, ah + bh, an + bn]))
    return inf, tau


@eqx.filter_jit
def simulate_hh_hybrid(model, area_um2, i_stim_nA, v_init_mV, celsius):
    """hh soma + learned current with NEURON's fixed step: implicit Euler for V (the
    current's conductance in the matrix), then cnexp for the gates at the new V."""
    gna, gk, gl, ena, ek, el, cm = 0.12, 0.036, 0.0003, 50.0, -77.0, -54.3, 1.0
    to_density = 100.0 / area_um2  # nA -> mA/cm2

    def step(carry, i_stim):
        v, gates, z = carry
        m, hh, n = gates
        g_na, g_k = gna * m**3 * hh, gk * n**4
        i_ion = g_na * (v - ena) + g_k * (v - ek) + gl * (v - el)
        i_ax = model.current_nA(v, z)
        g_ax = (jnp.dot(model.q, z) + model.w_u) / model.v_scale_mV
        rhs = (i_stim + i_ax) * to_density - i_ion
        diag = 1e-3 * cm / DT_MS + g_na + g_k + gl - g_ax * to_density
        v = v + rhs / diag
        inf, tau = _hh_rates(v, celsius)
        gates = gates + (1.0 - jnp.exp(-DT_MS / tau)) * (inf - gates)
        z = model.advance(z, v, DT_MS)
        return (v, gates, z), v

    gates0 = _hh_rates(v_init_mV, celsius)[0]
    _, vs = jax.lax.scan(step, (v_init_mV, gates0, model.steady_state(v_init_mV)), i_stim_nA)
    return jnp.concatenate([jnp.asarray([v_init_mV]), vs])


def spike_times_ms(v_mV: np.ndarray) -> np.ndarray:
    """Spike times of a trace sampled every DT_MS from t = 0."""
    return spike_times(np.arange(len(v_mV)) * DT_MS, v_mV)


# ---------------------------------------------------------------- fixtures

CA1_MODEL = random_model(10, 8, seed=3)
HH_MODEL = random_model(6, 4, seed=4, readout_nA=0.02)


def ou_stimulus_nA(n: int, seed: int = 7) -> np.ndarray:
    """Ornstein-Uhlenbeck current (mean 0.12 nA, sd 0.06 nA, tau 3 ms): a held-out stimulus."""
    rng = np.random.default_rng(seed)
    x, out, a = 0.0, np.empty(n), np.exp(-DT_MS / 3.0)
    for i in range(n):
        x = a * x + np.sqrt(1 - a * a) * rng.normal()
        out[i] = 0.12 + 0.06 * x
    return out


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    ca1 = export_reduced_cell(CA1_MODEL, ca1_soma_description(), root / "ca1", "ca1_n120",
                              v_init_mV=-70.4, use_table=True)
    hh = export_reduced_cell(HH_MODEL, hh_soma_description(), root / "hh", "ball_and_stick",
                             v_init_mV=-65.0, use_table=False)
    n_steps = int(round(TSTOP_MS / DT_MS))
    rec = run_isolated("tests.test_export_neuron:record_exports", timeout_s=600,
                       ca1_dir=str(ca1.out_dir), hh_dir=str(hh.out_dir),
                       hh_stim_nA=list(ou_stimulus_nA(n_steps + 1)))
    return ca1, hh, rec


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    mod_dir = tmp_path_factory.mktemp("variants")
    models, names = [], []
    for n_states, n_hidden, use_table in VARIANTS:
        model = random_model(n_states, n_hidden, seed=n_states + n_hidden)
        path = write_axial_mod(model, mod_dir, f"k{n_states}h{n_hidden}", use_table=use_table)
        models.append(model)
        names.append(path.stem)
    compile_mechanisms(mod_dir)
    t = np.arange(0.0, 100.0 + DT_MS / 2, DT_MS)
    # a ramp through the whole -140..+80 mV range, then fast and slow swings
    wave = np.where(t < 40.0, -140.0 + 220.0 * t / 40.0,
                    -55.0 + 60.0 * np.sin(2 * np.pi * t / 7.0) * np.sin(2 * np.pi * t / 53.0))
    rec = run_isolated("tests.test_export_neuron:record_variants", timeout_s=300,
                       mod_dir=str(mod_dir), names=names,
                       n_states=[m.n_states for m in models], v_wave_mV=list(wave))
    return models, rec


# ---------------------------------------------------------------- tests

def test_exports_load_as_export_json_describes(exports):
    ca1, hh, rec = exports
    for res, cells, desc in ((ca1, rec["ca1"], ca1_soma_description()),
                             (hh, [rec["hh"]], hh_soma_description())):
        for cell in cells:
            assert cell["area_um2"] == pytest.approx(desc["area_um2"], rel=1e-12)
            assert cell["nseg"] == 1
            assert cell["mechs"] == sorted(m["name"] for m in desc["mechanisms"])
            assert cell["axial_name"].startswith(res.mechanism)
    # two different exports coexist in one process: names differ
    assert ca1.mechanism != hh.mechanism and ca1.template != hh.template
    assert rec["celsius"] == 6.3


def test_two_cells_of_one_export_are_independent(exports):
    _, _, rec = exports
    weak, strong = rec["ca1"]
    assert np.max(np.abs(weak["v"] - strong["v"])) > 5.0  # different stimuli, different traces
    for cell in (weak, strong):
        err_z, err_i = compare(CA1_MODEL, cell["v"], cell)
        assert err_z < 1e-4 and err_i < 1e-9  # TABLE export: interpolation error, see below
        # ... and none against the JAX model that reads the same table
        err_z, err_i = compare(as_exported(CA1_MODEL, TABLE), cell["v"], cell)
        assert err_z < 1e-12 and err_i < 1e-12


def test_network_of_cells_runs_identically_on_two_threads(exports):
    ca1, _, _ = exports
    runs = run_isolated("tests.test_export_neuron:run_network_threads", timeout_s=300,
                        folder=str(ca1.out_dir))
    counts = [spike_times_ms(v).size for v in runs[1]]
    assert counts == sorted(counts) and counts[-1] > counts[0] > 0  # each cell its own drive
    np.testing.assert_array_equal(runs[1], runs[2])


def test_neuron_states_and_current_equal_jax_without_table(exports):
    _, _, rec = exports
    err_z, err_i = compare(HH_MODEL, rec["hh"]["v"], rec["hh"])
    print(f"hh export, no TABLE: max |dz| = {err_z:.2e}, max |di| = {err_i:.2e} nA")
    assert err_z < 1e-9 and err_i < 1e-9


def test_table_error_is_bounded(exports):
    _, _, rec = exports
    cell = rec["ca1"][1]
    err_z, err_i, err_i_total = compare(CA1_MODEL, cell["v"], cell, with_state_effect=True)
    print(f"CA1 export, TABLE 0.1 mV: max |dz| = {err_z:.2e}, max |di| = {err_i:.2e} nA, "
          f"vs exact states {err_i_total:.2e} nA "
          f"over v in [{cell['v'].min():.1f}, {cell['v'].max():.1f}] mV")
    assert 0.0 < err_z < 1e-4 and err_i < 1e-9 and err_i_total < 1e-5


def test_closed_loop_spike_times_match_a_jax_hh_soma(exports):
    _, hh, rec = exports
    cell = rec["hh"]
    v_jax = np.asarray(simulate_hh_hybrid(
        HH_MODEL, cell["area_um2"], jnp.asarray(cell["i_stim_nA"][1:]), cell["v"][0], 6.3))
    t_nrn, t_jax = spike_times_ms(cell["v"]), spike_times_ms(v_jax)
    print(f"hh closed loop: {len(t_nrn)} spikes; max |dV| = "
          f"{np.max(np.abs(v_jax - cell['v'])):.2e} mV")
    assert len(t_nrn) >= 5 and len(t_nrn) == len(t_jax)
    assert np.max(np.abs(t_nrn - t_jax)) < 0.1
    assert np.max(np.abs(v_jax - cell["v"])) < 1e-6


@pytest.mark.parametrize("index", range(len(VARIANTS)))
def test_network_sizes_compile_and_match_jax(variants, index):
    models, rec = variants
    n_states, n_hidden, use_table = VARIANTS[index]
    err_z, err_i = compare(models[index], rec["v"], rec["pps"][index])
    print(f"K={n_states} H={n_hidden} table={use_table}: max |dz| = {err_z:.2e}, "
          f"max |di| = {err_i:.2e} nA")
    if use_table:
        assert err_z < 1e-4 and err_i < 1e-9
        # the tabulated JAX model is NEURON's TABLE node for node, over -140..+80 mV (the ends
        # of the ramp are outside the table: the end values, as NEURON clamps)
        err_zt, err_it = compare(as_exported(models[index], TABLE), rec["v"],
                                 rec["pps"][index])
        print(f"  against the tabulated JAX model: max |dz| = {err_zt:.2e}")
        assert err_zt < 1e-12 and err_it < 1e-12
    else:
        assert err_z < 1e-9 and err_i < 1e-9


def test_coreneuron_export_runs_a_network_exactly_as_neuron(tmp_path):
    res = export_reduced_cell(CA1_MODEL, ca1_soma_description(), tmp_path / "cn", "ca1_n120",
                              v_init_mV=-70.4, use_table=True, coreneuron=True)
    lib = res.out_dir / res.info["coreneuron_lib"]
    assert lib.is_file() and lib.name == "libcorenrnmech.so"
    assert json.loads(res.export_json.read_text())["coreneuron_lib"] == res.info["coreneuron_lib"]
    amps = [0.3, 0.45, 0.6]
    runs = run_isolated("tests.test_export_neuron:run_network_coreneuron", timeout_s=300,
                        folder=str(res.out_dir), amps_nA=amps)
    assert runs["coreneuronlib"] == str(lib)
    counts = [sum(1 for gid, _ in runs["neuron"] if gid == k) for k in range(len(amps))]
    print(f"NEURON vs CoreNEURON, {len(amps)} cells: spikes per cell {counts}")
    assert counts == sorted(counts) and counts[-1] > counts[0] > 0
    assert len(runs["coreneuron"]) == len(runs["neuron"])
    for (g_n, t_n), (g_c, t_c) in zip(runs["neuron"], runs["coreneuron"], strict=True):
        assert g_n == g_c and abs(t_n - t_c) < 1e-9


@pytest.mark.slow
def test_exports_sharing_soma_mechanisms_run_from_one_merged_library(exports, tmp_path):
    ca1_table, _, _ = exports
    exact = export_reduced_cell(CA1_MODEL, ca1_soma_description(), tmp_path / "exact",
                                "ca1_n120", v_init_mV=-70.4, use_table=False, compile=False)
    lib = merge_mechanisms([ca1_table.out_dir, exact.out_dir], tmp_path / "lib")
    runs = run_isolated("tests.test_export_neuron:run_merged", timeout_s=300, lib_dir=str(lib),
                        export_dirs=[str(ca1_table.out_dir), str(exact.out_dir)])
    assert runs[0]["axial"].startswith(ca1_table.mechanism)
    assert runs[1]["axial"].startswith(exact.mechanism)
    # the same model with and without TABLE: same spikes, voltages within table error
    t_table, t_exact = spike_times_ms(runs[0]["v"]), spike_times_ms(runs[1]["v"])
    print(f"TABLE vs exact, closed loop 50 ms: {t_exact.size} spikes, max |dt_spike| = "
          f"{np.max(np.abs(t_table - t_exact)):.2e} ms, max |dV| = "
          f"{np.max(np.abs(runs[0]['v'] - runs[1]['v'])):.2e} mV")
    assert t_table.size >= 2
    np.testing.assert_allclose(spike_times_ms(runs[0]["v"]), spike_times_ms(runs[1]["v"]),
                               atol=0.05)


def test_smoke_test_reports_neuron_errors_in_the_template(tmp_path):
    desc = hh_soma_description()
    desc["mechanisms"][0]["name"] = "hh_unknown"  # claims to be a built-in, but is none
    with pytest.raises(ExportError) as err:
        export_reduced_cell(random_model(1, 0), desc, tmp_path, "bad", v_init_mV=-65.0)
    message = str(err.value)
    assert "smoke test" in message and "hh_unknown" in message
    assert not (tmp_path / "export.json").exists()
