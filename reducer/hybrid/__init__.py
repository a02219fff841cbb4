"""Single-compartment hybrid model in JAX: soma mechanisms + learned axial current."""

from reducer.hybrid.axial import GatedAxialCurrent, init_filter_bank
from reducer.hybrid.model_io import load_model, save_model
from reducer.hybrid.ode import hybrid_solution, solve_hybrid

__all__ = ["GatedAxialCurrent", "hybrid_solution", "init_filter_bank", "load_model", "save_model",
           "solve_hybrid"]
