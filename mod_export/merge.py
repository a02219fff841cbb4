"""One mechanism library for several exports (NEURON loads a mechanism name only once).

Two exports of cells with the same channels (e.g. two reduced CA1 cells, or one model with
and without TABLE) both ship ``na_p08.mod`` ...; NEURON refuses the second library
("The user defined name already exists"). Compile their .mod files together once instead::

    lib = merge_mechanisms(["out_a", "out_b"], "net_mechanisms")
    load_mechanisms(str(lib))                   # then, for each export:
    template = load_template("out_a")           # skips the export's own library
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mod_export.compile import compile_mechanisms
from mod_export.fileio import atomic_copy
from mod_export.loader import read_export
from reducer.errors import ExportError


def merge_mechanisms(export_dirs: Iterable[str | Path], out_dir: str | Path,
                     compile: bool = True, coreneuron: bool = False) -> Path:
    """Copy the .mod files of all ``export_dirs`` into ``out_dir`` and compile them there.

    Identical files (same name, same bytes) are kept once. Returns ``out_dir``. With
    ``coreneuron`` the library is also built for CoreNEURON: set ``CORENEURONLIB`` to its
    ``x86_64/libcorenrnmech.so`` before loading the exports' templates.

    Raises:
        ExportError: two exports ship different files under the same mechanism name, an
            export folder lacks export.json, or the compile fails.
    """
    chosen: dict[str, Path] = {}
    for folder in export_dirs:
        try:
            info = read_export(folder)
        except FileNotFoundError as exc:
            raise ExportError(str(exc)) from exc
        for mod in sorted((Path(folder) / info["mechanisms_dir"]).glob("*.mod")):
            other = chosen.get(mod.name)
            if other is not None and other.read_bytes() != mod.read_bytes():
                raise ExportError(
                    f"{mod} and {other} define the same mechanism '{mod.stem}' differently; "
                    "cells whose soma channels differ under one name cannot share a process"
                )
            chosen.setdefault(mod.name, mod)
    if not chosen:
        raise ExportError("merge_mechanisms: no .mod files in the given exports")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.mod"):
        if stale.name not in chosen:
            stale.unlink()
    for name, src in chosen.items():
        atomic_copy(src, out / name)
    if compile:
        compile_mechanisms(out, coreneuron=coreneuron)
    return out
