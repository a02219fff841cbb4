"""Validation of the reduced cell, in NEURON unless said otherwise.

Modules: ``exported`` (running exported cells in NEURON), ``heldout`` (held-out protocols
and wall times, full vs reduced), ``network`` (network timing), ``synaptic`` (somatic
synaptic drive), ``timestep`` (fixed step vs the ODE solved to tolerance, in JAX).
"""

from reducer.validate.heldout import (
    neuron_validation_worker,
    run_validation,
    simulate_jax,
    time_jax,
)
from reducer.validate.network import network_timing_worker
from reducer.validate.synaptic import (
    CHECK_DRIVES,
    CHECK_SEEDS,
    STUCK_MS,
    compare_under_drive,
    stuck_depolarised,
    synaptic_check,
    synaptic_worker,
)
from reducer.validate.timestep import timestep_check

__all__ = ["CHECK_DRIVES", "CHECK_SEEDS", "STUCK_MS", "compare_under_drive",
           "network_timing_worker", "neuron_validation_worker", "run_validation", "simulate_jax",
           "stuck_depolarised", "synaptic_check", "synaptic_worker", "time_jax", "timestep_check"]
