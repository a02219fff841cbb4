"""Load users' cells into NEURON and compile their mechanisms.

Three kinds of cell, described by a model folder's ``cell.json`` (see ``README.md`` here):
an SWC morphology plus a biophysics file, a plain hoc file, or a hoc template with
constructor arguments. ::

    spec = load_cell_spec("models/ca1_n120")   # pure Python, picklable
    cell = instantiate_cell(spec)              # in this process: NEURON builds the cell
    cell.soma_seg.v, cell.soma_children, cell.n_segments
"""

from reducer.cell.biophysics import load_biophysics
from reducer.cell.instantiate import LoadedCell, instantiate_cell
from reducer.cell.mechanisms import (
    cache_root,
    compile_mechanisms,
    load_mechanisms,
    mechanism_names,
    mechanisms_hash,
)
from reducer.cell.spec import CellSpec, load_cell_spec
from reducer.cell.stimuli import describe_user_stimuli, find_user_stimuli
from reducer.cell.swc import validate_swc

__all__ = [
    "CellSpec",
    "LoadedCell",
    "cache_root",
    "compile_mechanisms",
    "describe_user_stimuli",
    "find_user_stimuli",
    "instantiate_cell",
    "load_biophysics",
    "load_cell_spec",
    "load_mechanisms",
    "mechanism_names",
    "mechanisms_hash",
    "validate_swc",
]
