"""Write a trained hybrid model as an NMODL mechanism plus a reduced-cell builder for NEURON.

Public API::

    from mod_export import export_reduced_cell
    res = export_reduced_cell(model, soma_description, "out", cell_name="ca1_n120",
                              v_init_mV=-70.4, dt_ms=0.025, use_table=False, compile=True)

See ``mod_export/README.md`` for loading the export in a plain script and in a network.
"""

from mod_export.axial_mod import (
    TableSpec,
    check_nmodl_syntax,
    render_axial_mod,
    state_name,
    write_axial_mod,
)
from mod_export.compile import compile_mechanisms
from mod_export.export import ExportResult, export_reduced_cell
from mod_export.loader import build, load_template, read_export
from mod_export.merge import merge_mechanisms
from mod_export.soma import SomaSpec, parse_soma_description

__all__ = [
    "ExportResult",
    "SomaSpec",
    "TableSpec",
    "build",
    "check_nmodl_syntax",
    "compile_mechanisms",
    "export_reduced_cell",
    "load_template",
    "merge_mechanisms",
    "parse_soma_description",
    "read_export",
    "render_axial_mod",
    "state_name",
    "write_axial_mod",
]
