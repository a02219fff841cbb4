"""reduce-cell: turn a multicompartment NEURON cell into a single-compartment hybrid model.

The pipeline, one module (or sub-package) per stage:

    cell        load a hoc / hoc-template / swc+biophysics cell into NEURON, compile its .mod files
    protocols   stimulus protocols split into train / validation / test
    targets     NEURON runs the full cell: soma V, exact axial current, injected current
    nmodl2jax   the soma's own mechanisms (.mod) translated to JAX
    hybrid      single-compartment hybrid model (soma channels + learned axial current) in JAX
    train       open-loop then closed-loop training with optax
    validate    NEURON runs the exported reduced cell on held-out protocols
    report      metrics.json and report.html
    cli         the ``reduce-cell`` command
"""

__version__ = "0.1.0"
