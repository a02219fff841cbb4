"""The tabulated gates (reducer.hybrid.table): NEURON's TABLE lookup in JAX, without NEURON.
That it equals nocmodl's code is checked against compiled exports in test_export_neuron.py."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from reducer.hybrid import HybridCell, TabulatedAxialCurrent, as_exported
from reducer.hybrid.table import table_nodes_mV
from tests.test_export_mod import random_model

jax.config.update("jax_enable_x64", True)


def test_nodes_are_exact_between_them_linear_and_outside_the_end_values():
    model = random_model(5, 4, seed=3)
    tab = TabulatedAxialCurrent.of(model, -100.0, 50.0, 150)  # 1 mV grid
    nodes = table_nodes_mV(-100.0, 50.0, 150)
    assert nodes[0] == -100.0 and abs(nodes[-1] - 50.0) < 1e-9 and len(nodes) == 151
    for v in (-100.0, -63.0, 12.0):
        z_t, tau_t = tab.gates(jnp.asarray(nodes[int(round(v + 100.0))]))
        z, tau = model.gates(jnp.asarray(nodes[int(round(v + 100.0))]))
        np.testing.assert_allclose(z_t, z, rtol=0, atol=1e-15)
        np.testing.assert_allclose(tau_t, tau, rtol=1e-15)
    # a quarter of the way from -63 to -62 mV: a quarter of the way between the node values
    z0, z1 = model.gates(jnp.asarray(nodes[37]))[0], model.gates(jnp.asarray(nodes[38]))[0]
    v = nodes[37] + 0.25 * (nodes[38] - nodes[37])
    np.testing.assert_allclose(tab.gates(jnp.asarray(v))[0], z0 + 0.25 * (z1 - z0), atol=1e-13)
    # beyond the grid: the end rows, as NEURON clamps
    for v, row in ((-180.0, 0), (90.0, -1)):
        np.testing.assert_array_equal(tab.gates(jnp.asarray(v))[0], tab.z_inf_table[row])
    assert not np.allclose(tab.gates(jnp.asarray(-180.0))[0], model.gates(jnp.asarray(-180.0))[0])


def test_the_tabulated_cell_is_close_to_the_exact_one_and_jits():
    from reducer.nmodl2jax import build_membrane
    from tests.test_export_mod import ca1_soma_description

    soma = ca1_soma_description()
    model = random_model(4, 3, seed=1)
    table = {"vmin_mV": -150.0, "vmax_mV": 100.0, "n_intervals": 2500}
    assert as_exported(model, None) is model
    tab = as_exported(model, table)
    assert isinstance(tab, TabulatedAxialCurrent) and tab.n_states == 4 and tab.n_hidden == 3
    exact_cell = HybridCell.for_soma(model, build_membrane(soma), soma)
    tab_cell = HybridCell.for_soma(tab, build_membrane(soma), soma)
    i_stim = jnp.full(4000, 0.05)  # 100 ms at 0.025 ms
    v_e, _ = jax.jit(lambda c: c.simulate(i_stim, 0.025, c.init_state(-70.0)))(exact_cell)
    v_t, _ = jax.jit(lambda c: c.simulate(i_stim, 0.025, c.init_state(-70.0)))(tab_cell)
    assert np.all(np.isfinite(v_t))
    # a 0.1 mV grid moves the trace, but only slightly (measured 1.5e-6 mV here)
    assert 0.0 < float(jnp.max(jnp.abs(v_e - v_t))) < 1e-3
