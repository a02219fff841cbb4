"""Single-compartment hybrid model in JAX: soma mechanisms + learned axial current.

``HybridCell`` steps it with NEURON's own fixed-step scheme (what the exported mechanism does);
``solve_hybrid`` integrates the same model as an ODE with diffrax's adaptive solvers;
``as_exported`` gives the model as a tabulated export computes it (NMODL TABLE gates).
"""

from reducer.hybrid.axial import GatedAxialCurrent, init_filter_bank
from reducer.hybrid.cell import HybridCell, open_loop_axial, teacher_forced, teacher_forced_z
from reducer.hybrid.model_io import load_model, save_model
from reducer.hybrid.ode import hybrid_solution, solve_hybrid
from reducer.hybrid.table import TabulatedAxialCurrent, as_exported

__all__ = ["GatedAxialCurrent", "HybridCell", "TabulatedAxialCurrent", "as_exported",
           "hybrid_solution", "init_filter_bank", "load_model", "open_loop_axial", "save_model",
           "solve_hybrid", "teacher_forced", "teacher_forced_z"]
