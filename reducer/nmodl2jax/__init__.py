"""The soma's own mechanisms, from their .mod files, as JAX functions (NMODL -> JAX).

NEURON side (inside the process that holds the cell)::

    desc = describe_soma(soma_sections, mod_files)      # JSON-serialisable dict

JAX side::

    membrane = build_membrane(desc)                      # NmodlTranslationError if untranslatable
    state = membrane.init(v_mV)                          # finitialize
    i_mA_cm2, g_S_cm2, state = membrane.current(state, v_mV)   # nrn_cur
    state = membrane.advance(state, v_mV, dt_ms)                # nrn_state
    v = simulate_single_compartment(membrane, area_um2, cm, i_stim_nA, dt_ms, v_init_mV)

Continuous time (for ODE solvers; NmodlTranslationError if a mechanism is not an ODE)::

    i_mA_cm2 = membrane.current_density(state, v_mV)    # every BREAKPOINT once at v
    dstate = membrane.derivative(state, v_mV)           # d state/dt, zeros for non-states
    i_mA_cm2, dstate = membrane.rhs(state, v_mV)        # both in one evaluation

The translator parses each file with ``neuron.nmodl`` and evaluates its blocks as JAX
operations with the numerics of NEURON's nocmodl (cnexp, derivimplicit, euler, sparse
KINETIC, ion styles, Nernst, nrn_cur's finite-difference conductance).
"""

from reducer.nmodl2jax.describe import describe_soma, suffix_map
from reducer.nmodl2jax.mechanism import Mechanism
from reducer.nmodl2jax.membrane import Membrane, build_membrane
from reducer.nmodl2jax.modinfo import ModInfo, builtin_mod_path, read_mod
from reducer.nmodl2jax.stepper import membrane_step, simulate_single_compartment

__all__ = [
    "Mechanism",
    "Membrane",
    "ModInfo",
    "build_membrane",
    "builtin_mod_path",
    "describe_soma",
    "membrane_step",
    "read_mod",
    "simulate_single_compartment",
    "suffix_map",
]
