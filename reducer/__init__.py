"""reduce-cell: turn a multicompartment NEURON cell into a single-compartment hybrid model.

The pipeline, one module or sub-package per stage (reducer/README.md draws it with the files
each stage writes):

    cell        load a hoc / hoc-template / swc+biophysics cell into NEURON, compile its .mod files
    protocols   stimulus protocols split into train / validation / test
    targets     NEURON runs the full cell: soma V, exact axial current, injected current
    nmodl2jax   the soma's own mechanisms (.mod) translated to JAX
    hybrid      single-compartment hybrid model (soma channels + learned axial current) in JAX
    train       open-loop then closed-loop training with optax
    validate    NEURON runs the exported reduced cell on held-out protocols
    report      metrics.json and report.html
    pipeline    the stages in order, resumable; cli: the ``reduce-cell`` command
"""

__version__ = "0.1.0"

# The public API, imported lazily so that ``import reducer`` does not pull in NEURON, JAX or
# matplotlib (the CLI's --help and the NEURON worker processes stay fast).
_API = {
    "load_cell_spec": "reducer.cell",
    "instantiate_cell": "reducer.cell",
    "compile_mechanisms": "reducer.cell",
    "Protocol": "reducer.protocols",
    "ProtocolSet": "reducer.protocols",
    "default_protocols": "reducer.protocols",
    "generate_targets": "reducer.targets",
    "Dataset": "reducer.targets",
    "describe_soma": "reducer.nmodl2jax",
    "build_membrane": "reducer.nmodl2jax",
    "GatedAxialCurrent": "reducer.hybrid",
    "HybridCell": "reducer.hybrid",
    "solve_hybrid": "reducer.hybrid",
    "load_model": "reducer.hybrid",
    "save_model": "reducer.hybrid",
    "TrainConfig": "reducer.train",
    "train_hybrid": "reducer.train",
    "train_multistart": "reducer.train",
    "RunOptions": "reducer.pipeline",
    "run_pipeline": "reducer.pipeline",
    "ReduceCellError": "reducer.errors",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'reducer' has no attribute {name!r}")
