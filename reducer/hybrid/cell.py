"""The single-compartment hybrid cell and NEURON's fixed-step scheme in JAX.

One step n -> n+1 (NEURON, ``secondorder = 0``, see DESIGN.md "The two simulators must agree"):

    i_ion, g_ion  = soma mechanisms' current at v_n and dI/dV (NEURON's 0.001 mV difference)
    i_ax,  g_ax   = learned axial current I(v_n, z_n) (nA) and dI/dV, the same way
    rhs = -i_ion + (i_stim_n + i_ax) * 100 / area          (mA/cm2)
    d   = cm * 1e-3 / dt + g_ion - g_ax * 100 / area         (S/cm2; electrode-current sign)
    v_{n+1} = v_n + rhs / d
    then the soma mechanisms' states and z advance with v_{n+1} (cnexp for z).

This is exactly what NEURON computes for a one-segment soma with the exported POINT_PROCESS
(ELECTRODE_CURRENT), so the JAX model and the exported cell give the same trace.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from reducer.hybrid.axial import GatedAxialCurrent

jax.config.update("jax_enable_x64", True)

DV_MV = 0.001  # NEURON's finite-difference step for dI/dV in nrn_cur


class HybridCell(eqx.Module):
    """Soma mechanisms (fixed, translated from .mod) + learned axial current (trainable)."""

    axial: GatedAxialCurrent
    membrane: Any = eqx.field(static=True)
    area_um2: float = eqx.field(static=True)
    cm_uF_per_cm2: float = eqx.field(static=True)

    @classmethod
    def for_soma(cls, axial: GatedAxialCurrent, membrane, soma: dict[str, Any]) -> HybridCell:
        """The hybrid cell of a soma description (``describe_soma``: area, cm)."""
        return cls(axial=axial, membrane=membrane, area_um2=float(soma["area_um2"]),
                   cm_uF_per_cm2=float(soma["cm_uF_per_cm2"]))

    def init_state(self, v_mV):
        """Settled state at ``v_mV``: mechanism steady states (INITIAL) and z = z_inf(v)."""
        v = jnp.asarray(v_mV, dtype=jnp.float64)
        return (v, self.membrane.init(v), self.axial.steady_state(v))

    def step(self, state, i_stim_nA, dt_ms: float):
        """Advance (v, membrane state, z) by one fixed step; returns (new state, i_axial_nA)."""
        v, mstate, z = state
        i_ion, g_ion, mstate = self.membrane.current(mstate, v)
        i_ax = self.axial.current_nA(v, z)
        g_ax = (self.axial.current_nA(v + DV_MV, z) - i_ax) / DV_MV
        to_density = 100.0 / self.area_um2  # nA -> mA/cm2
        rhs = -i_ion + (i_stim_nA + i_ax) * to_density
        d = self.cm_uF_per_cm2 * 1e-3 / dt_ms + g_ion - g_ax * to_density
        v_new = v + rhs / d
        mstate = self.membrane.advance(mstate, v_new, dt_ms)
        z = self.axial.advance(z, v_new, dt_ms)
        # The current NEURON effectively applied over this step (linearised at v_n).
        i_applied = i_ax + g_ax * (v_new - v)
        return (v_new, mstate, z), i_applied

    def simulate(self, i_stim_nA, dt_ms: float, state0):
        """Closed loop over the per-step stimulus; returns (v trace incl. v_0, i_axial per step)."""

        def body(state, i):
            state, i_ax = self.step(state, i, dt_ms)
            return state, (state[0], i_ax)

        _, (v, i_ax) = jax.lax.scan(body, state0, i_stim_nA)
        return jnp.concatenate([state0[0][None], v]), i_ax


def teacher_forced(cell: HybridCell, v_mV, dt_ms: float):
    """Drive the mechanism states and z with a recorded voltage trace (open loop).

    Returns (membrane states, z) at every sample (leading axis len(v_mV)), starting from the
    steady state at v_mV[0]; the sequence of calls mirrors a NEURON step (current at v_n, then
    states advanced with v_{n+1}), so the states equal those of the full cell's soma when the
    soma mechanisms are local to the soma.
    """
    v_mV = jnp.asarray(v_mV)
    _, m0, z0 = cell.init_state(v_mV[0])

    def body(carry, vv):
        mstate, z = carry
        v_now, v_next = vv
        _, _, mstate = cell.membrane.current(mstate, v_now)
        mstate = cell.membrane.advance(mstate, v_next, dt_ms)
        z = cell.axial.advance(z, v_next, dt_ms)
        return (mstate, z), (mstate, z)

    _, (ms, zs) = jax.lax.scan(body, (m0, z0), (v_mV[:-1], v_mV[1:]))
    ms = jax.tree_util.tree_map(lambda a0, a: jnp.concatenate([a0[None], a]), m0, ms)
    zs = jnp.concatenate([z0[None], zs])
    return ms, zs


def teacher_forced_z(axial: GatedAxialCurrent, v_mV, dt_ms: float, z0=None):
    """z at every sample of a recorded voltage trace, (len(v), K), in parallel over time.

    Given V, the cnexp update z_{n+1} = a_n z_n + b_n (a_n = exp(-dt/tau(v_{n+1})),
    b_n = (1 - a_n) z_inf(v_{n+1})) is a linear recurrence, so an associative scan computes it
    in O(log n) depth instead of n sequential steps (training's open loop is dominated by this).
    """
    v_mV = jnp.asarray(v_mV)
    z0 = axial.steady_state(v_mV[0]) if z0 is None else z0
    z_inf, tau = jax.vmap(axial.gates)(v_mV[1:])
    a = jnp.exp(-dt_ms / tau)
    b = (1.0 - a) * z_inf
    b = b.at[0].add(a[0] * z0)
    a = a.at[0].set(0.0)

    def combine(left, right):
        a1, b1 = left
        a2, b2 = right
        return a1 * a2, a2 * b1 + b2

    _, zs = jax.lax.associative_scan(combine, (a, b))
    return jnp.concatenate([z0[None], zs])


def open_loop_axial(axial: GatedAxialCurrent, v_mV, dt_ms: float, z0=None):
    """Predicted axial current for a recorded voltage trace.

    Returns prediction[k] for k = 1..n, to compare with recorded i_axial[1:]: the current during
    step k-1 -> k, I(v_k, z_{k-1}), which is what the implicit step applies.
    """
    v_mV = jnp.asarray(v_mV)
    zs = teacher_forced_z(axial, v_mV, dt_ms, z0)
    return jax.vmap(axial.current_nA)(v_mV[1:], zs[:-1])
