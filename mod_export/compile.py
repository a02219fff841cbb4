"""Compile a folder of .mod files with ``nrnivmodl`` and turn failures into one clear message."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from reducer.errors import ExportError

_MAKE_FAIL = re.compile(r"make: \*\*\* \[[^\]]*?:\s*(?:\S*/)?([^/\s\]]+)\.(?:o|c|cpp)\] Error")
_ERROR_LINE = re.compile(r"error", re.IGNORECASE)


def find_nrnivmodl() -> str:
    """Path of ``nrnivmodl``: on PATH, else next to the running Python (a venv's bin/)."""
    found = shutil.which("nrnivmodl")
    if found:
        return found
    beside = Path(sys.executable).parent / "nrnivmodl"
    if beside.is_file():
        return str(beside)
    raise ExportError(
        "nrnivmodl was not found on PATH nor next to the Python executable; install NEURON "
        "(pip install neuron) in this environment, or export with compile=False and run "
        "nrnivmodl in the mechanisms folder yourself"
    )


def _summarise_failure(log: str) -> tuple[str | None, str]:
    """(failing .mod file name or None, the compiler's / nocmodl's message lines)."""
    lines = [ln.rstrip() for ln in log.splitlines() if ln.strip()]
    match = _MAKE_FAIL.search(log)
    mod = f"{match.group(1)}.mod" if match else None
    start = next((i for i, ln in enumerate(lines)
                  if _ERROR_LINE.search(ln) and not ln.startswith(("make:", "NOTE:"))), None)
    if start is None:
        return mod, "\n".join(lines[-15:])
    # nocmodl prints its context just before "Error:"; keep a few lines either side.
    begin = max(0, start - 3)
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("make:")),
               min(len(lines), start + 8))
    return mod, "\n".join(lines[begin:end])


# What ``nrnivmodl -coreneuron`` adds to the build folder: the mechanisms for CoreNEURON.
CORENEURON_LIB = "libcorenrnmech.so"


def _nmodl_env() -> dict[str, str]:
    """The environment for ``nrnivmodl -coreneuron``.

    CoreNEURON's code generator (nmodl) reads ``$NMODLHOME/share/nmodl/nrnunits.lib``, but
    ``from neuron import nmodl`` (which the exporter uses to check the .mod text) sets
    NMODLHOME to the wheel's share/nrn folder, where nmodl does not find it; point it at the
    wheel's data folder unless the current value works.
    """
    env = dict(os.environ)
    units = Path("share", "nmodl", "nrnunits.lib")
    if "NMODLHOME" in env and (Path(env["NMODLHOME"]) / units).is_file():
        return env
    spec = importlib.util.find_spec("neuron")  # locates the package without loading it
    if spec is not None and spec.origin is not None:
        data = Path(spec.origin).parent / ".data"
        if (data / units).is_file():
            env["NMODLHOME"] = str(data)
    return env


def compile_mechanisms(mod_dir: str | Path, timeout_s: float = 900.0,
                       coreneuron: bool = False) -> Path:
    """Run ``nrnivmodl`` in ``mod_dir`` (cwd) and return the compiled ``x86_64`` (arch) folder.

    A previous build folder is removed first so the library holds exactly the current files.
    With ``coreneuron`` the build (``nrnivmodl -coreneuron``) also holds
    :data:`CORENEURON_LIB`, the same mechanisms for CoreNEURON.

    Raises:
        ExportError: nrnivmodl missing, failing (naming the .mod file and the message), or
            exceeding ``timeout_s``; with ``coreneuron``, a build without the CoreNEURON
            library.
    """
    mod_dir = Path(mod_dir).resolve()
    if not any(mod_dir.glob("*.mod")):
        raise ExportError(f"no .mod files to compile in {mod_dir}")
    exe = find_nrnivmodl()
    for arch in ("x86_64", "aarch64", "arm64"):
        shutil.rmtree(mod_dir / arch, ignore_errors=True)
    try:
        proc = subprocess.run([exe, "-coreneuron"] if coreneuron else [exe], cwd=mod_dir,
                              capture_output=True, text=True, timeout=timeout_s,
                              env=_nmodl_env() if coreneuron else None)
    except subprocess.TimeoutExpired as exc:
        raise ExportError(f"nrnivmodl in {mod_dir} did not finish within {timeout_s} s") from exc
    log = (proc.stdout or "") + (proc.stderr or "")
    if proc.returncode != 0:
        mod, message = _summarise_failure(log)
        where = f"{mod_dir / mod}" if mod else f"a .mod file in {mod_dir}"
        raise ExportError(f"nrnivmodl{' -coreneuron' if coreneuron else ''} failed to compile "
                          f"{where}:\n{message}")
    for arch in ("x86_64", "aarch64", "arm64"):
        if (mod_dir / arch).is_dir():
            if coreneuron and not (mod_dir / arch / CORENEURON_LIB).is_file():
                raise ExportError(
                    f"nrnivmodl -coreneuron in {mod_dir} made no {arch}/{CORENEURON_LIB}: this "
                    "NEURON was built without CoreNEURON; use the pip wheel (pip install "
                    "neuron) or a build with -DNRN_ENABLE_CORENEURON=ON, or export without "
                    "CoreNEURON")
            return mod_dir / arch
    raise ExportError(f"nrnivmodl reported success in {mod_dir} but made no build folder:\n{log}")
