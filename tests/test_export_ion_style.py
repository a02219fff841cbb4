"""An exported soma keeps the ion style NEURON reports for the full cell's soma.

A calcium pool that WRITEs cai makes NEURON set bit 0200 (128) of the ca ion's style on its
own (eion.cpp, nrn_check_conc_write): the Hay et al. 2011 cell reports 247. The exporter
used to accept only 0..127 and stopped there. Our own calcium channel and pool
(tests/mod_calcium) make the same style here; the exported cell, loaded in a fresh NEURON,
must report the same integer.
"""

from __future__ import annotations

import json
from pathlib import Path

from mod_export import export_reduced_cell
from reducer.isolated import run_isolated
from tests.single_compartment import compile_mods
from tests.test_export_mod import random_model

MODS = sorted((Path(__file__).resolve().parent / "mod_calcium").glob("*.mod"))


def describe_calcium_soma(lib: str, mod_files: list[str]) -> dict:
    """Soma with hh, an HVA calcium current and a calcium pool; describe_soma of it."""
    from neuron import h

    from reducer.nmodl2jax import describe_soma

    h.nrn_load_dll(lib)
    soma = h.Section(name="soma")
    soma.L = soma.diam = 20.0
    for mech in ("hh", "cahva_t", "capool_t"):
        soma.insert(mech)
    h.celsius = 6.3
    h.finitialize(-65.0)
    desc = describe_soma([soma], [Path(m) for m in mod_files])
    desc["style_full"] = int(h.ion_style("ca_ion", sec=soma))
    return desc


def exported_ca_style(export_dir: str) -> int:
    from neuron import h, load_mechanisms

    info = json.loads((Path(export_dir) / "export.json").read_text())
    assert load_mechanisms(str(Path(export_dir) / info["mechanisms_dir"]))
    h.load_file(str(Path(export_dir) / info["hoc_file"]))
    cell = getattr(h, info["template"])()
    soma = getattr(cell, info["soma_section"])
    h.finitialize(info["v_init_mV"])
    return int(h.ion_style("ca_ion", sec=soma))


def test_ion_style_with_concentration_write_bits_is_exported_and_kept(tmp_path):
    lib = compile_mods(MODS)
    desc = run_isolated("tests.test_export_ion_style:describe_calcium_soma", lib=str(lib),
                        mod_files=[str(m) for m in MODS])
    full_style = desc.pop("style_full")
    assert full_style & 0o200, f"the pool's WRITE cai should set bit 128 (style {full_style})"
    assert desc["ion_styles"]["ca"]["style"] == full_style
    res = export_reduced_cell(random_model(2, 1), desc, tmp_path / "export", "ca_cell",
                              v_init_mV=-65.0)
    assert run_isolated("tests.test_export_ion_style:exported_ca_style",
                        export_dir=str(res.out_dir)) == full_style
