"""Reference single-compartment simulation with NEURON's fixed-step scheme (secondorder=0).

Per step n -> n+1 with electrode current ``i_stim_nA[n]``::

    i, g, state = membrane.current(state, v)            # nrn_cur at v_n
    rhs = -i + i_stim_nA[n] * 100 / area_um2            # mA/cm2
    d   = cm * 1e-3 / dt + g                            # S/cm2
    v   = v + rhs / d                                   # implicit Euler for v
    state = membrane.advance(state, v, dt)              # nrn_state at v_{n+1}
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)


def membrane_step(membrane, state, v, i_stim_nA, area_um2: float, cm_uF_per_cm2: float,
                  dt_ms: float):
    """One fixed step of a single compartment; returns (new state, new v)."""
    i, g, state = membrane.current(state, v)
    rhs = -i + i_stim_nA * 100.0 / area_um2
    d = cm_uF_per_cm2 * 1e-3 / dt_ms + g
    v = v + rhs / d
    state = membrane.advance(state, v, dt_ms)
    return state, v


def simulate_single_compartment(membrane, area_um2: float, cm_uF_per_cm2: float, i_stim_nA,
                                dt_ms: float, v_init_mV: float):
    """Simulate a single compartment under current clamp.

    Args:
        membrane: a :class:`~.membrane.Membrane` from :func:`build_membrane`.
        area_um2: membrane area.
        cm_uF_per_cm2: specific capacitance.
        i_stim_nA: electrode current used in each step (length N), positive depolarising.
        dt_ms: time step.
        v_init_mV: initial voltage (``finitialize(v_init)``).

    Returns:
        Voltage (mV), length N + 1: ``v[0] = v_init``, ``v[n+1]`` after step n (the same
        samples as NEURON's ``Vector.record(soma(0.5)._ref_v)``).
    """
    i_stim = jnp.asarray(i_stim_nA, dtype=jnp.float64)
    v0 = jnp.asarray(v_init_mV, dtype=jnp.float64)

    def body(carry, i_n):
        st, v = carry
        st, v = membrane_step(membrane, st, v, i_n, area_um2, cm_uF_per_cm2, dt_ms)
        return (st, v), v

    def run(v, stim):
        state = membrane.init(v, dt_ms)
        return jnp.concatenate([v[None], jax.lax.scan(body, (state, v), stim)[1]])

    return jax.jit(run)(v0, i_stim)
