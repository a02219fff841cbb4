"""NEURON's ion mechanisms (na_ion, k_ion, ca_ion, ...): styles, Nernst, ion variable names.

An ion's state in the membrane pytree is ``{"e": erev_mV, "ci": mM, "co": mM, "cur":
mA/cm2}``. The style bits are NEURON's ``ion_style`` integer (see ``nrn_promote``):
04 initialise concentrations from the ``<ion>i0_<ion>_ion`` globals, 040 compute erev by
Nernst at initialisation and whenever a mechanism writes a concentration, 0100 recompute
erev at the start of every current evaluation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

CINIT, EINIT, EADVANCE = 0o4, 0o40, 0o100


def ion_field(var: str, ion: str) -> str | None:
    """Which field of ion ``ion`` the mechanism variable ``var`` names (or None)."""
    if var == "e" + ion:
        return "e"
    if var == ion + "i":
        return "ci"
    if var == ion + "o":
        return "co"
    if var == "i" + ion:
        return "cur"
    return None


def nernst_mV(ci, co, charge: float, celsius: float, gas_R: float, faraday: float):
    """NEURON's nrn_nernst: ``1e3*R*(celsius+273.15)/(z*F) * log(co/ci)``, with its guards."""
    if charge == 0:
        return jnp.zeros_like(jnp.asarray(ci, dtype=jnp.float64))
    ktf = 1000.0 * gas_R * (celsius + 273.15) / faraday
    ci = jnp.asarray(ci, dtype=jnp.float64)
    co = jnp.asarray(co, dtype=jnp.float64)
    safe_ci = jnp.where(ci > 0, ci, 1.0)
    safe_co = jnp.where(co > 0, co, 1.0)
    e = ktf / charge * jnp.log(safe_co / safe_ci)
    return jnp.where(ci <= 0, 1e6, jnp.where(co <= 0, -1e6, e))
