"""The learned axial current: a small neural ODE with interpretable gating dynamics.

    u        = (V - v_offset_mV) / v_scale_mV                   normalised voltage
    hid_j    = tanh(w_in_j * u + b_in_j)                        j = 1..H (shared hidden layer)
    a_k      = a_lin_k * u + a0_k + sum_j A_kj hid_j            z_inf_k = logistic(a_k)
    s_k      = s_lin_k * u + s0_k + sum_j S_kj hid_j            tau_k = tau_min_ms + exp(clip(s_k))
    dz_k/dt  = (z_inf_k(V) - z_k) / tau_k(V)                    k = 1..K
    I_axial  = sum_k (w_k + q_k * u) z_k + w_u * u + bias_nA    (nA, positive = into the soma)

With A = S = 0 (the hidden layer switched off) and a small ``a_lin`` this is the linear
filter bank of DESIGN.md (z_k tracks a low-pass filtered V with time constant tau_k), which is
how the model is initialised; training adds the voltage dependence. z_inf and tau depend on
V alone, so the exported NMODL can tabulate them.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

# exp() argument bound for tau: keeps tau finite and matches the guard in the exported NMODL.
S_CLIP = 30.0


class GatedAxialCurrent(eqx.Module):
    """Learned axial current with K gating states and an H-unit hidden layer.

    All arrays are float64. Shapes: ``w_in, b_in`` (H,); ``a_lin, a0, s_lin, s0, w, q`` (K,);
    ``A, S`` (K, H); ``w_u, bias_nA`` scalars.
    """

    w_in: jax.Array
    b_in: jax.Array
    a_lin: jax.Array
    a0: jax.Array
    A: jax.Array
    s_lin: jax.Array
    s0: jax.Array
    S: jax.Array
    w: jax.Array
    q: jax.Array
    w_u: jax.Array
    bias_nA: jax.Array
    v_offset_mV: float = eqx.field(static=True)
    v_scale_mV: float = eqx.field(static=True)
    tau_min_ms: float = eqx.field(static=True)

    @property
    def n_states(self) -> int:
        return int(self.a0.shape[0])

    @property
    def n_hidden(self) -> int:
        return int(self.w_in.shape[0])

    def _u(self, v_mV):
        return (v_mV - self.v_offset_mV) / self.v_scale_mV

    def gates(self, v_mV):
        """Return (z_inf, tau_ms), each of shape (K,), at voltage ``v_mV`` (a scalar)."""
        u = self._u(v_mV)
        hid = jnp.tanh(self.w_in * u + self.b_in)
        a = self.a_lin * u + self.a0 + self.A @ hid
        s = self.s_lin * u + self.s0 + self.S @ hid
        z_inf = jax.nn.sigmoid(a)
        tau_ms = self.tau_min_ms + jnp.exp(jnp.clip(s, -S_CLIP, S_CLIP))
        return z_inf, tau_ms

    def current_nA(self, v_mV, z):
        """Axial current into the soma (nA) at voltage ``v_mV`` and states ``z`` (K,)."""
        u = self._u(v_mV)
        return jnp.dot(self.w + self.q * u, z) + self.w_u * u + self.bias_nA

    def steady_state(self, v_mV):
        """States at rest: z = z_inf(v)."""
        return self.gates(v_mV)[0]

    def advance(self, z, v_mV, dt_ms):
        """NEURON's cnexp update of the states over one step, using the new voltage."""
        return cnexp_step(z, *self.gates(v_mV), dt_ms)


def cnexp_step(z, z_inf, tau_ms, dt_ms):
    """What cnexp makes of dz/dt = (z_inf - z) / tau over one step (z_inf, tau held)."""
    return z + (1.0 - jnp.exp(-dt_ms / tau_ms)) * (z_inf - z)


def init_filter_bank(
    n_states: int = 10,
    n_hidden: int = 8,
    tau_range_ms: tuple[float, float] = (0.2, 300.0),
    v_offset_mV: float = -65.0,
    v_scale_mV: float = 20.0,
    gate_slope: float = 0.25,
    tau_min_ms: float = 0.05,
    key: jax.Array | None = None,
    hidden_init_scale: float = 1.0,
) -> GatedAxialCurrent:
    """The linear filter-bank start: log-spaced constant tau, near-linear z_inf, zero readout.

    The hidden layer gets random input weights but zero output weights (A = S = 0), so the
    model starts exactly at the filter bank and gradients can switch the nonlinearity on.
    """
    if key is None:
        key = jax.random.PRNGKey(0)
    k1, k2 = jax.random.split(key)
    taus = jnp.geomspace(tau_range_ms[0], tau_range_ms[1], n_states)
    zeros_k = jnp.zeros(n_states)
    return GatedAxialCurrent(
        w_in=hidden_init_scale * jax.random.normal(k1, (n_hidden,)),
        b_in=hidden_init_scale * jax.random.normal(k2, (n_hidden,)),
        a_lin=jnp.full(n_states, gate_slope),
        a0=zeros_k,
        A=jnp.zeros((n_states, n_hidden)),
        s_lin=zeros_k,
        s0=jnp.log(taus - tau_min_ms),
        S=jnp.zeros((n_states, n_hidden)),
        w=zeros_k,
        q=zeros_k,
        w_u=jnp.asarray(0.0),
        bias_nA=jnp.asarray(0.0),
        v_offset_mV=float(v_offset_mV),
        v_scale_mV=float(v_scale_mV),
        tau_min_ms=float(tau_min_ms),
    )
