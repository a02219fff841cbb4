"""Compile .mod files with nrnivmodl into a content-addressed cache, and load them.

The cache folder for a set of .mod files is ``<cache root>/<hash>/`` where the hash covers the
files' names and contents, the NEURON version and the machine architecture; it holds copies of
the .mod files and the ``x86_64/`` (``platform.machine()``) folder nrnivmodl made. The cache root
is ``$REDUCE_CELL_CACHE/mechanisms`` if that variable is set, else
``~/.cache/reduce-cell/mechanisms``. A compile runs in a private temporary folder beside the
final one and is renamed into place when it succeeded, so concurrent compiles of the same
files are safe (the loser discards its copy) and a folder that exists is always complete.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reducer.errors import MechanismError

# Density mechanisms compiled into NEURON itself (insertable without any .mod file).
BUILTIN_DENSITY_MECHANISMS = frozenset({"hh", "pas", "extracellular", "fastpas"})
BUILTIN_POINT_PROCESSES = frozenset({
    "IClamp", "AlphaSynapse", "ExpSyn", "Exp2Syn", "SEClamp", "VClamp", "OClamp", "APCount",
    "NetStim", "IntFire1", "IntFire2", "IntFire4", "PointProcessMark", "PatternStim",
})
_LIB_NAMES = ("libnrnmech.so", "libnrnmech.dylib", ".libs/libnrnmech.so")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_COMMENT_BLOCK = re.compile(r"^\s*COMMENT\b.*?^\s*ENDCOMMENT\b", re.S | re.M)
_NEURON_BLOCK = re.compile(r"\bNEURON\s*\{(.*?)\}", re.S)
_NAME_DECL = re.compile(r"\b(SUFFIX|POINT_PROCESS|ARTIFICIAL_CELL)\s+([A-Za-z_]\w*)")
# Mechanism libraries this process has loaded (folder → names), since NEURON cannot unload.
_LOADED_FOLDERS: dict[str, frozenset[str]] = {}


def mod_declarations(mod_file: Path) -> list[tuple[str, str]]:
    """``(keyword, name)`` for the SUFFIX / POINT_PROCESS / ARTIFICIAL_CELL of a .mod file."""
    text = Path(mod_file).read_text(errors="replace")
    text = _COMMENT_BLOCK.sub("", text)
    text = re.sub(r":.*", "", text)  # NMODL line comments
    block = _NEURON_BLOCK.search(text)
    return _NAME_DECL.findall(block.group(1)) if block else []


def mechanism_names(mod_files: Iterable[Path]) -> tuple[set[str], set[str]]:
    """Names the .mod files define: (density mechanisms, point processes/artificial cells)."""
    density: set[str] = set()
    point: set[str] = set()
    for mod in mod_files:
        for keyword, name in mod_declarations(mod):
            (density if keyword == "SUFFIX" else point).add(name)
    return density, point


def _as_mod_list(mod_files_or_dir: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(mod_files_or_dir, (str, Path)):
        path = Path(mod_files_or_dir).expanduser().resolve()
        if path.is_dir():
            mods = sorted(path.glob("*.mod"))
            if not mods:
                raise MechanismError(f"no .mod files in the mechanisms folder {path}")
            return mods
        paths = [path]
    else:
        paths = [Path(p).expanduser().resolve() for p in mod_files_or_dir]
    if not paths:
        raise MechanismError("compile_mechanisms got no .mod files")
    for p in paths:
        if not p.is_file() or p.suffix != ".mod":
            raise MechanismError(f"{p} is not a .mod file")
    names = [p.name for p in paths]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise MechanismError(f"several .mod files share a file name: {dupes}; rename them")
    return sorted(paths, key=lambda p: p.name)


def mechanisms_hash(mod_files: Iterable[Path]) -> str:
    """Hash of the .mod files (names + contents), NEURON version and architecture."""
    digest = hashlib.sha256()
    # The NEURON version is part of the key: libraries are not portable across versions.
    digest.update(f"neuron {_neuron_version()} {platform.machine()}\0".encode())
    for mod in sorted(mod_files, key=lambda p: p.name):
        digest.update(mod.name.encode() + b"\0")
        digest.update(mod.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def _neuron_version() -> str:
    # From the package metadata, so compiling needs no NEURON import in the calling process
    # (importing NEURON auto-loads ./x86_64 and fixes the process's mechanism set).
    for dist in ("neuron", "neuron-nightly", "neuron-gpu"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    import neuron

    return str(neuron.__version__)


def cache_root() -> Path:
    """The folder holding compiled mechanism sets (created on demand)."""
    base = os.environ.get("REDUCE_CELL_CACHE")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "reduce-cell"
    return root / "mechanisms"


def library_path(folder: Path) -> Path | None:
    """The compiled library under ``folder/<arch>/``, or None."""
    for lib in _LIB_NAMES:
        candidate = Path(folder) / platform.machine() / lib
        if candidate.exists():
            return candidate
    return None


def compile_mechanisms(
    mod_files_or_dir: str | Path | Iterable[str | Path], cache_dir: str | Path | None = None
) -> Path:
    """Compile .mod files with nrnivmodl, once per distinct content.

    Args:
        mod_files_or_dir: A folder of .mod files, one .mod file, or a list of them.
        cache_dir: Cache root to use instead of :func:`cache_root`.

    Returns:
        The cache folder that contains ``<arch>/`` with the compiled library (give it to
        ``neuron.load_mechanisms``).

    Raises:
        MechanismError: nrnivmodl is missing or a .mod file fails to compile (the message
            names the file and quotes the compiler).
    """
    mods = _as_mod_list(mod_files_or_dir)
    root = Path(cache_dir).expanduser().resolve() if cache_dir else cache_root()
    final = root / mechanisms_hash(mods)
    if library_path(final) is not None:
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".build-{final.name}-", dir=root))
    try:
        for mod in mods:
            shutil.copy2(mod, tmp / mod.name)
        _run_nrnivmodl(tmp, mods)
        (tmp / "sources.json").write_text(json.dumps([str(m) for m in mods], indent=1))
        try:
            os.rename(tmp, final)
        except OSError:
            # Another process finished the same compile first: use its (complete) folder.
            if library_path(final) is None:
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _nrnivmodl() -> str:
    beside_python = Path(sys.executable).with_name("nrnivmodl")
    exe = str(beside_python) if beside_python.exists() else shutil.which("nrnivmodl")
    if not exe:
        raise MechanismError(
            "nrnivmodl not found; install NEURON (pip install neuron) in this environment"
        )
    return exe


def _run_nrnivmodl(folder: Path, mods: list[Path]) -> None:
    proc = subprocess.run(
        [_nrnivmodl(), *[m.name for m in mods]], cwd=folder, capture_output=True, text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if proc.returncode == 0 and library_path(folder) is not None:
        return
    output = _ANSI.sub("", proc.stdout + "\n" + proc.stderr)
    # The private build folder means nothing to the user: show generated files by name.
    output = output.replace(f"{folder}/{platform.machine()}/", "").replace(f"{folder}/", "")
    culprit, lines = _compile_error(output, mods)
    where = f"{culprit}" if culprit else "one of " + ", ".join(str(m) for m in mods)
    raise MechanismError(
        f"nrnivmodl failed to compile {where}:\n    " + "\n    ".join(lines)
        + "\nFix the .mod file (NEURON 9 compiles mechanisms as C++: see "
        "https://www.neuronsimulator.org/en/9.0.0/guide/porting_mechanisms_to_cpp.html)"
    )


_NOISE = re.compile(
    r"^(\s*->|\s*=>|Translating|Thread Safe|NOTE:|refer to|Traceback|\s+File |\s+raise |"
    r"\s+subprocess|subprocess\.|make: \*\*\* Waiting|cfiles|Mod files:|MODOBJS|Creating|"
    r"/.*\bnrnivmodl\b|Notice:|\S*$)"
)


def _compile_error(output: str, mods: list[Path]) -> tuple[Path | None, list[str]]:
    """The failing .mod file (if recognisable) and the relevant lines of the compiler output."""
    stems = {m.stem: m for m in mods}
    culprit = None
    patterns = [
        r"in file (\w+)\.mod",
        r"\[[^\]]*: (\w+)\.(?:cpp|c|o)\] Error",
        r"(\w+)\.(?:cpp|c):\d+:\d+: error",
        r"(\w+)\.mod",
        r"(\w+)\.cpp",
    ]
    for pattern in patterns:
        for match in re.finditer(pattern, output):
            if match.group(1) in stems:
                culprit = stems[match.group(1)]
                break
        if culprit:
            break
    lines = [ln.rstrip() for ln in output.splitlines() if not _NOISE.match(ln)]
    first = next((i for i, ln in enumerate(lines) if re.search(r"error", ln, re.I)), 0)
    relevant = lines[max(first - 1, 0): first + 10] or ["(no compiler output)"]
    return culprit, relevant


def loaded_mechanisms(h: Any) -> tuple[set[str], set[str]]:
    """Mechanisms known to this NEURON process: (density incl. ions, point processes)."""
    out: list[set[str]] = []
    sref = h.ref("")
    for kind in (0, 1):
        mt = h.MechanismType(kind)
        names = set()
        for i in range(int(mt.count())):
            mt.select(i)
            mt.selected(sref)
            names.add(sref[0])
        out.append(names)
    return out[0], out[1]


def load_mechanisms(folder: Path, mod_files: Iterable[Path]) -> None:
    """Load a compiled mechanism folder into this process, refusing clashes NEURON can't undo.

    Raises:
        MechanismError: a mechanism name is already defined in this process (built into NEURON
            or loaded from another library), or the library cannot be loaded.
    """
    import neuron
    from neuron import h

    folder = Path(folder).resolve()
    if str(folder) in _LOADED_FOLDERS:
        return
    mod_files = list(mod_files)
    density, point = loaded_mechanisms(h)
    for mod in mod_files:
        for _, name in mod_declarations(mod):
            if name in density or name in point:
                builtin = name in BUILTIN_DENSITY_MECHANISMS or name in BUILTIN_POINT_PROCESSES
                raise MechanismError(
                    f"{mod} defines mechanism {name!r}, which "
                    + ("is built into NEURON; rename its SUFFIX/POINT_PROCESS" if builtin else
                       "is already loaded in this process from another library (NEURON cannot "
                       "unload or replace mechanisms); build each cell in a fresh process "
                       "(reducer.isolated.run_isolated) or rename the mechanism")
                )
    if library_path(folder) is None or not neuron.load_mechanisms(
        str(folder), warn_if_already_loaded=False
    ):
        raise MechanismError(f"no compiled mechanism library in {folder}; recompile it")
    names = {name for mod in mod_files for _, name in mod_declarations(mod)}
    _LOADED_FOLDERS[str(folder)] = frozenset(names)
    density, point = loaded_mechanisms(h)
    missing = sorted(names - density - point)
    if missing:
        raise MechanismError(f"loading {folder} did not define {missing}; recompile it")

