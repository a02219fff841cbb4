"""The hybrid cell as a continuous ODE (diffrax) against NEURON's fixed-step scheme in JAX.

* A soma with hh plus a learned axial current with random, non-trivial weights:
  - spiking: the fixed-step spike times at dt = 0.025, 0.0125, 0.00625 ms converge to the
    diffrax solution, the error halving with dt (first-order scheme);
  - subthreshold under a piecewise-constant random stimulus: the two agree to < 0.05 mV
    at dt = 0.025 ms.
* Membrane.derivative against a finite difference of the fixed-step advance() for small dt:
  CA1 channels (cnexp), corpus Ca channels with Ca concentration (cnexp, derivimplicit,
  euler with an ``if``, KINETIC sparse) and a nonlinear KINETIC buffer with COMPARTMENT and
  CONSERVE; current_density equals nrn_cur's current at v.
* An equation inside an `if` on a traced v takes the right branch (euler, derivimplicit).
* Mechanisms that are not ODEs fail only when a derivative is asked for, naming the file,
  line and construct; a BREAKPOINT reading a value computed in the DERIVATIVE block gets it
  at the current (state, v).
* max_steps exceeded -> TrainingError.
* (slow) jax.grad through the solver matches a finite difference.
No NEURON process: descriptions are written by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from reducer.errors import NmodlTranslationError, TrainingError
from reducer.hybrid import init_filter_bank, solve_hybrid
from reducer.hybrid.cell import HybridCell
from reducer.nmodl2jax import build_membrane

ROOT = Path(__file__).resolve().parent.parent
CA1 = ROOT / "models" / "ca1_n120" / "mechanisms"
CORPUS = ROOT / "tests" / "mod_corpus"
CONSTRUCTS = ROOT / "tests" / "mod_constructs"
AREA_UM2 = 1256.6370614359173  # 20 um sphere-equivalent cylinder
DT_MS = 0.025
T_MS = 60.0
V0_MV = -65.0
REF_EVERY_MS = DT_MS / 4  # reference samples, for spike times by interpolation
SPIKE_AMP_NA = 0.8  # repetitive firing against the axial current sink


def _desc(mechs: list[tuple[str, Path | None, dict]], celsius: float, ions: dict,
          styles: dict) -> dict:
    d = math.sqrt(AREA_UM2 / math.pi)
    return {"sections": ["soma"], "area_um2": AREA_UM2, "L_um": d, "diam_um": d,
            "cm_uF_per_cm2": 1.0, "Ra_ohm_cm": 100.0, "celsius_degC": celsius,
            "dt_ms": DT_MS,
            "mechanisms": [{"name": n, "mod_file": None if p is None else str(p),
                            "range": r, "global": {}, "usetable": 0.0}
                           for n, p, r in mechs],
            "ions": ions, "ion_styles": styles}


NA_K = {"ions": {"na": {"ena": 50.0, "nai": 10.0, "nao": 140.0},
                 "k": {"ek": -85.0, "ki": 54.4, "ko": 2.5}},
        "styles": {"na": {"style": 8, "charge": 1.0}, "k": {"style": 8, "charge": 1.0}}}
# Ca written by a concentration mechanism: NEURON's style with cinit and Nernst after writes.
CA = {"ions": {"ca": {"eca": 132.4579341637009, "cai": 5e-5, "cao": 2.0}},
      "styles": {"ca": {"style": 55, "charge": 2.0, "ci0": 5e-5, "co0": 2.0}}}


def _with_ca(base: dict) -> tuple[dict, dict]:
    return {**base["ions"], **CA["ions"]}, {**base["styles"], **CA["styles"]}


def _hh_cell() -> HybridCell:
    desc = _desc([("hh", None, {"gnabar": 0.12, "gkbar": 0.036, "gl": 0.0003, "el": -54.3})],
                 6.3, {"k": {"ek": -77.0}, "na": {"ena": 50.0}},
                 {"k": {"style": 8}, "na": {"style": 8}})
    k_init, k_w, k_q, k_a, k_s = jax.random.split(jax.random.PRNGKey(7), 5)
    n_states, n_hidden = 6, 4
    axial = init_filter_bank(n_states, n_hidden, key=k_init)
    # Perturb the readout and switch the hidden layer on: a leak (w_u < 0) balanced by
    # low-passed voltage (w > 0) with voltage-dependent gates and time constants.
    axial = eqx.tree_at(
        lambda a: (a.w, a.q, a.w_u, a.A, a.S), axial,
        (0.3 * jnp.abs(jax.random.normal(k_w, (n_states,))),
         0.05 * jax.random.normal(k_q, (n_states,)), jnp.asarray(-0.3),
         jax.random.normal(k_a, (n_states, n_hidden)),
         0.5 * jax.random.normal(k_s, (n_states, n_hidden))))
    # No net axial current at the start state, so the cell rests near V0 without stimulus.
    axial = eqx.tree_at(lambda a: a.bias_nA, axial,
                        -axial.current_nA(V0_MV, axial.steady_state(V0_MV)))
    return HybridCell(axial, build_membrane(desc), AREA_UM2, 1.0)


def _stim(dt_ms: float, amp_nA) -> np.ndarray:
    """Per-step current; ``amp_nA`` is a value or one value per 1 ms piece from 5 to 55 ms."""
    n = int(round(T_MS / dt_ms))
    t_mid = (np.arange(n) + 0.5) * dt_ms
    on = (t_mid >= 5.0) & (t_mid < 55.0)
    amps = np.broadcast_to(np.asarray(amp_nA, dtype=float), (50,))
    return np.where(on, amps[np.clip((t_mid - 5.0).astype(int), 0, 49)], 0.0)


def _spikes(v: np.ndarray, dt_ms: float) -> np.ndarray:
    v = np.asarray(v)
    i = np.flatnonzero((v[:-1] < -20.0) & (v[1:] >= -20.0))
    return (i + (-20.0 - v[i]) / (v[i + 1] - v[i])) * dt_ms


@pytest.fixture(scope="module")
def cell() -> HybridCell:
    return _hh_cell()


def test_fixed_step_converges_to_diffrax(cell: HybridCell) -> None:
    state0 = cell.init_state(V0_MV)
    v_ref = np.asarray(solve_hybrid(cell, _stim(DT_MS, SPIKE_AMP_NA), DT_MS, state0,
                                    save_every_ms=REF_EVERY_MS))
    ref = _spikes(v_ref, REF_EVERY_MS)
    assert ref.size >= 4
    errors = []
    for dt in (0.025, 0.0125, 0.00625):
        v = np.asarray(eqx.filter_jit(cell.simulate)(_stim(dt, SPIKE_AMP_NA), dt, state0)[0])
        sp = _spikes(v, dt)
        assert sp.size == ref.size
        errors.append(float(np.max(np.abs(sp - ref))))
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    print(f"\nspike times vs diffrax ({ref.size} spikes): max error {errors} ms at "
          f"dt = 0.025, 0.0125, 0.00625 ms; ratios {ratios}")
    assert errors[0] < 1.0
    assert all(1.6 < r < 2.5 for r in ratios), "first-order convergence"


def test_subthreshold_agrees(cell: HybridCell) -> None:
    rng = np.random.default_rng(3)
    i_stim = _stim(DT_MS, rng.uniform(-0.05, 0.05, 50))
    state0 = cell.init_state(V0_MV)
    v_ode = np.asarray(solve_hybrid(cell, i_stim, DT_MS, state0, save_every_ms=REF_EVERY_MS))
    v_ode = v_ode[::round(DT_MS / REF_EVERY_MS)]
    v_fix = np.asarray(cell.simulate(jnp.asarray(i_stim), DT_MS, state0)[0])
    assert v_ode.shape == v_fix.shape == (i_stim.size + 1,)
    assert np.ptp(v_fix) > 2.0 and np.max(v_fix) < -50.0, "moves V, stays subthreshold"
    err = float(np.max(np.abs(v_ode - v_fix)))
    print(f"\nsubthreshold, dt = {DT_MS} ms: max |V_fixed - V_diffrax| = {err:.3g} mV")
    assert err < 0.05


def test_max_steps_exceeded(cell: HybridCell) -> None:
    with pytest.raises(TrainingError, match=r"max_steps=40 .* t = 60 ms"):
        solve_hybrid(cell, _stim(DT_MS, SPIKE_AMP_NA), DT_MS, cell.init_state(V0_MV),
                     max_steps=40, save_every_ms=REF_EVERY_MS)


MEMBRANES = {
    "ca1": ([("na_p08", CA1 / "na_p08.mod", {"gbar": 0.05, "vt": -60.0}),
             ("kdr_p08", CA1 / "kdr_p08.mod", {"gbar": 0.005, "vt": -60.0}),
             ("km_p08", CA1 / "km_p08.mod", {"gbar": 7e-05, "taumax": 1000.0}),
             ("leak_p08", CA1 / "leak_p08.mod", {"g": 1e-4, "e": -70.0})], 36.0, NA_K),
    # Ca_HVA feeds CaDynamics_E2 (cnexp, cai a STATE), SK_E2 reads cai; Ih: cnexp.
    "corpus_hva": ([("CaDynamics_E2", CORPUS / "CaDynamics_E2.mod",
                     {"gamma": 0.001, "decay": 200.0}),
                    ("Ca_HVA", CORPUS / "Ca_HVA.mod", {"gbar": 0.002}),
                    ("SK_E2", CORPUS / "SK_E2.mod", {"gbar": 0.005}),
                    ("Ih", CORPUS / "Ih.mod", {"gbar": 1e-4})], 34.0, NA_K),
    # cat_hm92 (GHK, derivimplicit) feeds cad_d94 (euler, an if in the DERIVATIVE block);
    # kdr_markov: KINETIC sparse with CONSERVE.
    "corpus_cat": ([("cad_d94", CORPUS / "cad_d94.mod", {}),
                    ("cat_hm92", CORPUS / "cat_hm92.mod", {"pcabar": 5e-5}),
                    ("kdr_markov", CORPUS / "kdr_markov.mod", {"gbar": 0.036})], 36.0, NA_K),
    # Nonlinear KINETIC buffer with COMPARTMENT volumes, << flux and CONSERVE.
    "kinetic_buffer": ([("cabuf_kin", CONSTRUCTS / "cabuf_kin.mod", {}),
                        ("cax_ghk", CONSTRUCTS / "cax_ghk.mod", {"pbar": 5e-5}),
                        ("hh", None, {})], 20.0, NA_K),
}


@pytest.mark.parametrize("name", list(MEMBRANES))
def test_derivative_matches_advance(name: str) -> None:
    mechs, celsius, base = MEMBRANES[name]
    uses_ca = name != "ca1"
    ions, styles = _with_ca(base) if uses_ca else (base["ions"], base["styles"])
    membrane = build_membrane(_desc(mechs, celsius, ions, styles))
    mask = membrane.ode_mask()
    # Start from rest, then jump to -20 mV: gates and Ca are far from their steady state.
    state = membrane.init(-70.0)
    state = membrane.advance(membrane.current(state, -20.0)[2], -20.0, 0.5)
    v = -20.0
    i_nrn, _, after_cur = membrane.current(state, v)
    i_ode, deriv = membrane.rhs(state, v)
    assert float(i_ode) == pytest.approx(float(i_nrn), rel=1e-13, abs=1e-16)
    assert float(membrane.current_density(state, v)) == float(i_ode)
    # Every scheme (cnexp, derivimplicit, euler, sparse) is the ODE + O(dt): Richardson
    # extrapolation of two finite differences removes that term.
    dt = 1e-6
    after, after_half = (membrane.advance(after_cur, v, h) for h in (dt, dt / 2))
    leaves = jax.tree_util.tree_leaves_with_path(mask)
    checked: list[str] = []
    worst = 0.0
    for path, is_state in leaves:
        d = float(_at(deriv, path))
        if not is_state:
            assert d == 0.0, f"{jax.tree_util.keystr(path)} is not an ODE state"
            continue
        x0 = float(_at(after_cur, path))
        fd = 2 * (float(_at(after_half, path)) - x0) / (dt / 2) \
            - (float(_at(after, path)) - x0) / dt
        checked.append(jax.tree_util.keystr(path))
        worst = max(worst, abs(fd - d) / abs(d))
        assert d != 0.0, f"{jax.tree_util.keystr(path)} at steady state: nothing checked"
        assert fd == pytest.approx(d, rel=1e-6), jax.tree_util.keystr(path)
    if uses_ca:
        assert "['ions']['ca']['ci']" in checked
    print(f"\n{name}: d/dt of {len(checked)} states match advance() (worst relative "
          f"difference {worst:.2g}): {', '.join(checked)}")


def _at(tree, path):
    for key in path:
        tree = tree[key.key]
    return tree


PROCEDURE_SOLVE = """
NEURON { SUFFIX pstep NONSPECIFIC_CURRENT i RANGE g }
PARAMETER { g = 0.001 (S/cm2) }
ASSIGNED { v (mV) i (mA/cm2) }
STATE { w }
INITIAL { w = 0 }
BREAKPOINT {
    SOLVE update
    i = g * w * (v + 70)
}
PROCEDURE update() {
    w = w + 0.01 * (1 - w)
}
"""

AFTER_CVODE = PROCEDURE_SOLVE.replace("pstep", "pcvode").replace(
    "SOLVE update", "SOLVE update METHOD after_cvode")

STEADY_ONLY = """
NEURON { SUFFIX kss NONSPECIFIC_CURRENT i RANGE g }
PARAMETER { g = 0.001 (S/cm2) kf = 0.2 (/ms) kb = 0.1 (/ms) }
ASSIGNED { v (mV) i (mA/cm2) }
STATE { c o }
INITIAL { SOLVE kin STEADYSTATE sparse }
BREAKPOINT { i = g * o * (v + 70) }
KINETIC kin {
    ~ c <-> o (kf, kb)
    CONSERVE c + o = 1
}
"""

INSTANT_M = """
NEURON { SUFFIX nainst USEION na READ ena WRITE ina RANGE gbar }
PARAMETER { gbar = 0.05 (S/cm2) }
ASSIGNED { v (mV) ena (mV) ina (mA/cm2) minf hinf htau (ms) }
STATE { h }
INITIAL { rates(v) h = hinf }
BREAKPOINT {
    SOLVE states METHOD cnexp
    ina = gbar * minf * minf * minf * h * (v - ena)
}
DERIVATIVE states {
    rates(v)
    h' = (hinf - h) / htau
}
PROCEDURE rates(v (mV)) {
    minf = 1 / (1 + exp(-(v + 35) / 7))
    hinf = 1 / (1 + exp((v + 60) / 6))
    htau = 1 + 5 / (1 + exp((v + 50) / 10))
}
"""


def _one(tmp_path: Path, name: str, text: str):
    path = tmp_path / f"{name}.mod"
    path.write_text(text)
    return build_membrane(_desc([(name, path, {})], 20.0, NA_K["ions"], NA_K["styles"]))


@pytest.mark.parametrize(("name", "text", "line", "construct"), [
    ("pstep", PROCEDURE_SOLVE, 8, "SOLVE update (a PROCEDURE)"),
    ("pcvode", AFTER_CVODE, 8, "SOLVE update METHOD after_cvode (a PROCEDURE)"),
    ("kss", STEADY_ONLY, 5, "STATE c"),
])
def test_not_an_ode_fails_on_request(tmp_path: Path, name: str, text: str, line: int,
                                     construct: str) -> None:
    membrane = _one(tmp_path, name, text)  # builds: the fixed-step path works
    state = membrane.init(-65.0)
    state = membrane.advance(membrane.current(state, -40.0)[2], -40.0, DT_MS)
    assert bool(jnp.all(jnp.isfinite(jnp.asarray(jax.tree_util.tree_leaves(state)))))
    for ask in (membrane.derivative, membrane.rhs):
        with pytest.raises(NmodlTranslationError) as err:
            ask(state, -40.0)
        msg = str(err.value)
        assert msg.startswith(f"{tmp_path / name}.mod:{line}: {construct}: "), msg
        assert "\n" not in msg


def test_breakpoint_reads_value_from_derivative_block(tmp_path: Path) -> None:
    membrane = _one(tmp_path, "nainst", INSTANT_M)
    state = membrane.init(-65.0)
    v = -30.0
    h = float(state["mechs"]["nainst"]["h"])
    minf = 1.0 / (1.0 + math.exp(-(v + 35.0) / 7.0))
    expected = 0.05 * minf**3 * h * (v - 50.0)
    assert float(membrane.current_density(state, v)) == pytest.approx(expected, rel=1e-12)
    hinf = 1.0 / (1.0 + math.exp((v + 60.0) / 6.0))
    htau = 1.0 + 5.0 / (1.0 + math.exp((v + 50.0) / 10.0))
    assert float(membrane.derivative(state, v)["mechs"]["nainst"]["h"]) == \
        pytest.approx((hinf - h) / htau, rel=1e-12)


@pytest.mark.slow
def test_gradient_through_solver(cell: HybridCell) -> None:
    """jax.grad through solve_hybrid (diffrax's checkpointed adjoint) against a central
    difference; compiling the backward pass takes about a minute on 2 cores."""
    i_stim = np.where(np.arange(400) >= 40, 0.02, 0.0)
    state0 = cell.init_state(V0_MV)

    def final_v(bias_nA):
        c = eqx.tree_at(lambda m: m.axial.bias_nA, cell, bias_nA)
        return solve_hybrid(c, i_stim, DT_MS, state0)[-1]

    bias = cell.axial.bias_nA
    grad = float(jax.grad(final_v)(bias))
    eps = 1e-5
    fd = float((final_v(bias + eps) - final_v(bias - eps)) / (2 * eps))
    assert grad > 0  # more depolarising current, higher final V
    assert grad == pytest.approx(fd, rel=1e-2)


def test_after_cvode_procedure_runs_once_per_fixed_step(tmp_path: Path) -> None:
    """NEURON 9.0.2 runs ``SOLVE update METHOD after_cvode`` once per fixed step:
    w = 1 - 0.99**10 = 0.09561792499119551 after 10 steps (measured in NEURON)."""
    membrane = _one(tmp_path, "pcvode", AFTER_CVODE)
    state = membrane.init(-65.0)
    for _ in range(10):
        state = membrane.advance(membrane.current(state, -65.0)[2], -65.0, DT_MS)
    assert float(state["mechs"]["pcvode"]["w"]) == pytest.approx(0.09561792499119551,
                                                                 rel=1e-14)


EQ_IN_IF = """
NEURON { SUFFIX eqif NONSPECIFIC_CURRENT i RANGE g }
PARAMETER { g = 0.001 (S/cm2) }
ASSIGNED { v (mV) i (mA/cm2) }
STATE { x y }
INITIAL { x = 0.1 y = 0.1 }
BREAKPOINT {
    SOLVE states METHOD SCHEME
    i = g * x * (v + 70)
}
DERIVATIVE states {
    if (v > -40) {
        x' = (1 - x) / 2
    } else {
        x' = -x / 5
    }
    y' = -y * x
}
"""


@pytest.mark.parametrize("method", ["euler", "derivimplicit"])
def test_equation_inside_voltage_if(tmp_path: Path, method: str) -> None:
    """An equation inside an ``if`` on v takes the branch v selects, in advance() (euler and
    derivimplicit used to take the else branch) and in derivative()."""
    membrane = _one(tmp_path, "eqif", EQ_IN_IF.replace("SCHEME", method))
    state = membrane.init(-65.0)
    dt = 1e-6
    # jit: v is traced, so the translator evaluates both branches and must merge them.
    deriv = jax.jit(lambda v: membrane.derivative(state, v)["mechs"]["eqif"]["x"])
    step = jax.jit(lambda v: membrane.advance(membrane.current(state, v)[2], v, dt)
                   ["mechs"]["eqif"]["x"])
    for v, dx in ((-20.0, (1 - 0.1) / 2), (-60.0, -0.1 / 5)):
        assert float(deriv(v)) == pytest.approx(dx, rel=1e-14)
        assert (float(step(v)) - 0.1) / dt == pytest.approx(dx, rel=1e-5)
