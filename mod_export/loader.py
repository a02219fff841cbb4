"""Load a reduce-cell export into NEURON and build reduced cells (needs only NEURON).

This file is also copied into every export as ``build_reduced_cell.py``, so an export can be
used without reduce-cell installed::

    import sys; sys.path.insert(0, "out")          # the export folder
    from build_reduced_cell import build
    cell = build()                                 # cell.soma, cell.axial (nA into the soma)

Everything it does is what export.json describes: ``load_mechanisms(mechanisms_dir)``,
``load_file(hoc_file)``, ``h.<template>()``, the soma at ``cell.<soma_section>``.

An export built for CoreNEURON (``coreneuron_lib`` in export.json) also runs there::

    from neuron import coreneuron
    pc = h.ParallelContext(); h.CVode().cache_efficient(1)
    coreneuron.enable = True
    h.finitialize(v_init); pc.psolve(tstop)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def read_export(folder: str | Path | None = None) -> dict[str, Any]:
    """The export's ``export.json`` (folder default: this file's folder)."""
    folder = Path(folder) if folder is not None else HERE
    path = folder / "export.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a reduce-cell export folder")
    return json.loads(path.read_text())


def load_template(folder: str | Path | None = None) -> Any:
    """Load the export's mechanisms (unless already loaded) and hoc file; return the template.

    The mechanisms are skipped when a library defining the axial mechanism is already loaded
    (e.g. one library compiled from several exports, see ``mod_export.merge_mechanisms``).
    When this call loads them and the export holds a CoreNEURON library, ``CORENEURONLIB``
    is set to it (unless already set): CoreNEURON otherwise looks in ./x86_64.
    """
    from neuron import h, load_mechanisms

    folder = Path(folder) if folder is not None else HERE
    info = read_export(folder)
    if not hasattr(h, info["mechanism"]):
        mech_dir = folder / info["mechanisms_dir"]
        if not load_mechanisms(str(mech_dir)):
            raise RuntimeError(f"could not load the compiled mechanisms in {mech_dir}")
        if info.get("coreneuron_lib"):
            os.environ.setdefault("CORENEURONLIB", str(folder.resolve() / info["coreneuron_lib"]))
    if not h.load_file(str(folder / info["hoc_file"])):
        raise RuntimeError(f"could not load {folder / info['hoc_file']}")
    return getattr(h, info["template"])


def build(folder: str | Path | None = None, set_celsius: bool = True) -> Any:
    """Make one reduced cell (call again for more: each has its own soma and axial current).

    Args:
        folder: the export folder (default: this file's folder).
        set_celsius: set ``h.celsius`` (process-wide) to the original simulations' value.
    """
    from neuron import h

    template = load_template(folder)
    celsius = read_export(folder).get("celsius_degC")
    if set_celsius and celsius is not None:
        h.celsius = celsius
    return template()


if __name__ == "__main__":
    from neuron import h

    cell = build()
    info = read_export()
    h.load_file("stdrun.hoc")
    h.dt = info["dt_ms"]
    h.finitialize(info["v_init_mV"])
    h.continuerun(10.0)
    print(f"{info['template']}: soma area {cell.soma(0.5).area():.2f} um2, "
          f"v(10 ms) = {cell.soma(0.5).v:.3f} mV, axial current {cell.axial.i:.4f} nA")
