"""Single-compartment hybrid model in JAX: soma mechanisms + learned axial current."""

from reducer.hybrid.axial import GatedAxialCurrent, init_filter_bank
from reducer.hybrid.model_io import load_model, save_model

__all__ = ["GatedAxialCurrent", "init_filter_bank", "load_model", "save_model"]
