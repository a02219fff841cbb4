"""The learned gates read from NEURON's TABLE, so a tabulated export has an exact JAX twin.

An export with ``TABLE ... FROM vmin TO vmax WITH n`` (``mod_export.TableSpec``) makes NEURON
compute z_inf and tau once on a grid and then interpolate linearly. The exact model and the
tabulated one differ by that interpolation (a spike moves by a few 0.01 ms over a second on the
CA1 cell), so the JAX model that stands beside a tabulated export must interpolate the same way:
:class:`TabulatedAxialCurrent` does what the code nocmodl generates does, node for node.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from reducer.hybrid.axial import GatedAxialCurrent, cnexp_step

jax.config.update("jax_enable_x64", True)


def table_nodes_mV(vmin_mV: float, vmax_mV: float, n_intervals: int) -> np.ndarray:
    """The voltages NEURON tabulates at: ``x = vmin; x += dx`` (accumulated, as nocmodl
    writes the loop, so the nodes carry the same rounding)."""
    dx = (float(vmax_mV) - float(vmin_mV)) / n_intervals
    nodes = np.empty(n_intervals + 1)
    x = float(vmin_mV)
    for i in range(n_intervals + 1):
        nodes[i] = x
        x += dx
    return nodes


class TabulatedAxialCurrent(eqx.Module):
    """A :class:`GatedAxialCurrent` whose z_inf and tau are looked up as NEURON's TABLE does:
    clamped to the end values outside the grid, linear between nodes. Same interface."""

    model: GatedAxialCurrent
    z_inf_table: jax.Array  # (n_intervals + 1, K)
    tau_table_ms: jax.Array  # (n_intervals + 1, K)
    vmin_mV: float = eqx.field(static=True)
    inv_dx_per_mV: float = eqx.field(static=True)
    n_intervals: int = eqx.field(static=True)

    @classmethod
    def of(cls, model: GatedAxialCurrent, vmin_mV: float, vmax_mV: float,
           n_intervals: int) -> TabulatedAxialCurrent:
        """Tabulate ``model``'s gates on the grid of ``TABLE FROM vmin TO vmax WITH n``."""
        z, tau = jax.vmap(model.gates)(jnp.asarray(table_nodes_mV(vmin_mV, vmax_mV,
                                                                   n_intervals)))
        dx = (float(vmax_mV) - float(vmin_mV)) / n_intervals
        return cls(model=model, z_inf_table=z, tau_table_ms=tau, vmin_mV=float(vmin_mV),
                   inv_dx_per_mV=1.0 / dx, n_intervals=int(n_intervals))

    @property
    def n_states(self) -> int:
        return self.model.n_states

    @property
    def n_hidden(self) -> int:
        return self.model.n_hidden

    def gates(self, v_mV):
        """(z_inf, tau_ms) at ``v_mV`` from the table: ``xi = (v - vmin) / dx``, the end rows
        at or beyond either end, else ``t[i] + theta * (t[i+1] - t[i])``."""
        xi = self.inv_dx_per_mV * (v_mV - self.vmin_mV)
        i = jnp.clip(jnp.floor(xi), 0, self.n_intervals - 1).astype(jnp.int32)
        theta = xi - i

        def look(t):
            inner = t[i] + theta * (t[i + 1] - t[i])
            return jnp.where(xi <= 0.0, t[0], jnp.where(xi >= self.n_intervals, t[-1], inner))

        return look(self.z_inf_table), look(self.tau_table_ms)

    def current_nA(self, v_mV, z):
        return self.model.current_nA(v_mV, z)

    def steady_state(self, v_mV):
        return self.gates(v_mV)[0]

    def advance(self, z, v_mV, dt_ms):
        """NEURON's cnexp update with the tabulated gates."""
        return cnexp_step(z, *self.gates(v_mV), dt_ms)


def as_exported(model: GatedAxialCurrent,
                table: dict | None) -> GatedAxialCurrent | TabulatedAxialCurrent:
    """The model as an export computes it: ``table`` is export.json's ``table`` entry
    (``vmin_mV``, ``vmax_mV``, ``n_intervals``), or None for exact gates."""
    if not table:
        return model
    return TabulatedAxialCurrent.of(model, table["vmin_mV"], table["vmax_mV"],
                                    int(table["n_intervals"]))
