"""Smoke test of a freshly written export, run in its own NEURON process.

Loads the compiled mechanisms and the hoc template exactly as a user script would, makes two
cells (network use: each has its own axial current), runs 1 ms and checks the soma area and
that the voltages stay finite. An export built for CoreNEURON runs the same millisecond again
in CoreNEURON, which must give the same voltages. NEURON's own error text (printed on the C
stderr) is captured so a failure surfaces as one ExportError naming the file.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reducer.errors import ExportError


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """Collect what C code writes on file descriptor 2 (NEURON's hoc error messages)."""
    text: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            yield text
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text.append(tmp.read().decode(errors="replace").strip())


def smoke_test(folder: str, info: dict[str, Any]) -> dict[str, float]:
    """Load the export described by ``info`` from ``folder``; return a few measured values."""
    from neuron import h, load_mechanisms

    folder_path = Path(folder)
    hoc_file = folder_path / info["hoc_file"]
    stage = f"loading the mechanisms in {folder_path / info['mechanisms_dir']}"
    with _captured_stderr() as err:
        try:
            if not load_mechanisms(str(folder_path / info["mechanisms_dir"])):
                raise RuntimeError("load_mechanisms returned False")
            stage = f"loading {hoc_file}"
            if not h.load_file(str(hoc_file)):
                raise RuntimeError("load_file returned 0")
            stage = f"instantiating template {info['template']} from {hoc_file}"
            template = getattr(h, info["template"])
            cells = [template(), template()]
            soma = getattr(cells[0], info["soma_section"])
            axial = getattr(cells[0], info["point_process"])
            if info.get("celsius_degC") is not None:
                h.celsius = info["celsius_degC"]
            stage = f"simulating 1 ms of the cell from {hoc_file}"
            h.dt = info["dt_ms"]
            h.finitialize(info["v_init_mV"])
            while h.t < 1.0 - 1e-9:
                h.fadvance()
        except Exception as exc:  # NEURON raises RuntimeError("hoc error") etc.
            failure: Exception | None = exc
        else:
            failure = None
    if failure is not None:
        neuron_msg = err[0] if err and err[0] else str(failure)
        raise ExportError(f"the export failed a NEURON smoke test while {stage}: {neuron_msg}")
    v_mV = [getattr(c, info["soma_section"])(0.5).v for c in cells]
    if not all(math.isfinite(v) for v in v_mV) or not math.isfinite(axial.i):
        raise ExportError(
            f"the reduced cell from {hoc_file} produced non-finite values within 1 ms "
            f"(v = {v_mV} mV, axial i = {axial.i} nA)"
        )
    out = {"area_um2": soma(0.5).area(), "v_1ms_mV": v_mV[0], "i_axial_1ms_nA": axial.i}
    if info.get("coreneuron_lib"):
        out["coreneuron_max_dv_mV"] = _coreneuron_check(h, folder_path, info, cells, v_mV)
    return out


def _coreneuron_check(h, folder: Path, info: dict[str, Any], cells: list, v_mV: list[float],
                      tol_mV: float = 1e-9) -> float:
    """Run the same 1 ms in CoreNEURON; return the largest voltage difference to NEURON."""
    from neuron import coreneuron

    lib = folder / info["coreneuron_lib"]
    if not lib.is_file():
        raise ExportError(f"export.json names the CoreNEURON library {lib}, which is missing: "
                          "export again with CoreNEURON")
    # NEURON looks for x86_64/libcorenrnmech.so in the working directory unless told.
    os.environ["CORENEURONLIB"] = str(lib)
    pc = h.ParallelContext()
    h.CVode().cache_efficient(1)
    coreneuron.enable, coreneuron.verbose = True, 0
    try:
        h.finitialize(info["v_init_mV"])
        pc.psolve(1.0)
    finally:
        coreneuron.enable = False
    v_core = [getattr(c, info["soma_section"])(0.5).v for c in cells]
    dv = max(abs(a - b) for a, b in zip(v_core, v_mV, strict=True))
    if not dv <= tol_mV:
        raise ExportError(
            f"the reduced cell from {folder / info['hoc_file']} gives different voltages in "
            f"CoreNEURON and NEURON after 1 ms ({v_core} vs {v_mV} mV): report this with the "
            "export folder")
    return dv
