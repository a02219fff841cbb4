"""Cell manifest (``cell.json``) → :class:`CellSpec`, a picklable description of a cell.

Pure Python: nothing here imports NEURON, so a spec can be built, validated, hashed and sent
to a fresh NEURON process (:func:`reducer.isolated.run_isolated`) cheaply.

A *model folder* holds ``cell.json``::

    {"name": "ca1_n120", "description": "...",
     "morphology": "x.swc", "biophysics": "biophysics.json",          # kind "swc"
     "hoc_file": "cell.hoc",                                           # kind "hoc"
     "template": "L5PC", "load_files": ["a.hoc"], "template_args": ["morph.asc", 3],  # "template"
     "soma": "soma",
     "mechanisms": "mechanisms",
     "simulation": {"celsius": 36.0, "v_init_mV": -70.0, "dt_ms": 0.025}}

Exactly one of ``morphology`` / ``hoc_file`` / ``template`` (the latter with ``load_files``,
the hoc files that define the template and what it needs). Paths in ``cell.json`` are
relative to the folder. See ``reducer/cell/README.md`` for the full description.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reducer.cell.biophysics import load_biophysics
from reducer.cell.mechanisms import (
    BUILTIN_DENSITY_MECHANISMS,
    BUILTIN_POINT_PROCESSES,
    mechanism_names,
)
from reducer.cell.swc import validate_swc
from reducer.errors import CellLoadError, MechanismError

MANIFEST = "cell.json"
# hoc code as published models name it: .oc (1990s ModelDB files), .tem (templates), .nrn
HOC_SUFFIXES = (".hoc", ".oc", ".tem", ".nrn")
DEFAULT_SIMULATION = {"celsius": 36.0, "v_init_mV": -70.0, "dt_ms": 0.025}
_KNOWN_KEYS = {
    "name", "description", "morphology", "biophysics", "hoc_file", "template", "load_files",
    "template_args", "soma", "mechanisms", "simulation", "keep_stimuli",
}
_SIM_KEYS = set(DEFAULT_SIMULATION)


@dataclass(frozen=True)
class CellSpec:
    """Everything needed to build a cell in NEURON; validated, picklable, hashable.

    Attributes:
        name: Short identifier of the cell (used in file and mechanism names).
        root: Folder the cell's relative paths refer to; hoc code runs with this as cwd.
        kind: ``"swc"``, ``"hoc"`` or ``"template"``.
        morphology: SWC file (kind ``"swc"``).
        hoc_file: Plain hoc file that creates the sections (kind ``"hoc"``).
        template: Name of the hoc template to instantiate (kind ``"template"``).
        load_files: hoc files loaded, in order, before the template is instantiated.
        template_args: Constructor arguments (str or float) of the template.
        biophysics: Biophysics file (JSON/YAML); required for SWC, optional override for hoc.
        biophysics_data: Parsed, validated content of ``biophysics`` (None if none).
        soma: How to find the soma: a section base name or SectionList name; None = automatic.
        mechanisms_dir: Folder of .mod files, or None when the cell uses only built-ins.
        mod_files: The .mod files of ``mechanisms_dir``, sorted by name.
        celsius: Temperature (degC) set in NEURON.
        celsius_from: Where ``celsius`` comes from: ``"given"`` (cell.json or an option),
            ``"<file>:<line>"`` (a hoc file of the cell assigns it, as nrniv would run it) or
            ``"default"``.
        v_init_mV: Initial membrane potential.
        dt_ms: Fixed integration step.
        description: Free text.
        keep_stimuli: Leave the stimuli the cell's own hoc placed (IClamp, SEClamp, VClamp,
            AlphaSynapse, NetCons driving its synapses) as they are; by default they are
            switched off when the cell is built (reducer/cell/stimuli.py).
    """

    name: str
    root: Path
    kind: str
    morphology: Path | None = None
    hoc_file: Path | None = None
    template: str | None = None
    load_files: tuple[Path, ...] = ()
    template_args: tuple[Any, ...] = ()
    biophysics: Path | None = None
    biophysics_data: dict | None = field(default=None, compare=False, repr=False)
    soma: str | None = None
    mechanisms_dir: Path | None = None
    mod_files: tuple[Path, ...] = ()
    celsius: float = DEFAULT_SIMULATION["celsius"]
    v_init_mV: float = DEFAULT_SIMULATION["v_init_mV"]
    dt_ms: float = DEFAULT_SIMULATION["dt_ms"]
    description: str = ""
    keep_stimuli: bool = False
    celsius_from: str = field(default="default", compare=False)

    def input_files(self) -> list[Path]:
        """All files the cell is built from (morphology/hoc, biophysics, .mod files)."""
        files = [p for p in (self.morphology, self.hoc_file) if p is not None]
        files += list(self.load_files)
        if self.biophysics is not None:
            files.append(self.biophysics)
        files += list(self.mod_files)
        return files

    def content_hash(self) -> str:
        """SHA-256 (hex) of every input file's content plus the settings that shape the cell.

        File contents are hashed under their path relative to ``root`` (or their name) so the
        hash does not change when the model folder is moved.
        """
        digest = hashlib.sha256()
        settings = {
            "kind": self.kind, "template": self.template,
            "template_args": [str(a) for a in self.template_args], "soma": self.soma,
            "celsius": self.celsius, "v_init_mV": self.v_init_mV, "dt_ms": self.dt_ms,
        }
        if self.keep_stimuli:  # only when set, so the hashes of earlier runs stay valid
            settings["keep_stimuli"] = True
        digest.update(json.dumps(settings, sort_keys=True).encode())
        for path in self.input_files():
            digest.update(b"\0file\0" + _rel_name(path, self.root).encode() + b"\0")
            digest.update(path.read_bytes())
        return digest.hexdigest()


def _rel_name(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def load_cell_spec(path: str | Path, **overrides: Any) -> CellSpec:
    """Read and validate a cell description. Does not import NEURON.

    Args:
        path: A model folder containing ``cell.json``; a ``cell.json`` file; a ``.swc`` file;
            or a ``.hoc`` file (a plain cell, or with ``template=`` the file defining it).
        **overrides: Keys of ``cell.json`` replacing the manifest's values (``biophysics``,
            ``mechanisms``, ``soma``, ``template``, ``template_args``, ``load_files``, ``name``,
            ``simulation``) and the simulation keys ``celsius``, ``v_init_mV``, ``dt_ms``.
            Relative paths given here are resolved against the current directory.

    Returns:
        The validated :class:`CellSpec`.

    Raises:
        CellLoadError: a file is missing or malformed, or the manifest is inconsistent.
        MechanismError: the biophysics inserts a mechanism that no .mod file defines.
    """
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise CellLoadError(f"cell not found: {path} does not exist")
    manifest: dict[str, Any]
    if path.is_dir() or path.name == MANIFEST:
        manifest_path = path / MANIFEST if path.is_dir() else path
        root = manifest_path.parent
        if not manifest_path.exists():
            raise CellLoadError(
                f"{path} is a folder without {MANIFEST}; give a cell.json (see "
                "reducer/cell/README.md), or pass the .swc / .hoc file itself"
            )
        manifest = _read_manifest(manifest_path)
        source = str(manifest_path)
    elif path.suffix.lower() == ".swc":
        root, source = path.parent, str(path)
        manifest = {"name": path.stem, "morphology": path.name}
    elif path.suffix.lower() in HOC_SUFFIXES:
        root, source = path.parent, str(path)
        if overrides.get("template"):
            # As a user types it: the --load-file files first, in order (a biophysics file,
            # import3d.hoc ...), then the file given as the cell, which defines the template.
            overrides = dict(overrides)
            given = [_load_file_path(Path.cwd(), f, source) for f in
                     overrides.pop("load_files", None) or []]
            manifest = {"name": str(overrides["template"]),
                        "load_files": [f for f in given if f != path] + [path]}
        else:
            manifest = {"name": path.stem, "hoc_file": path.name}
    else:
        raise CellLoadError(
            f"cannot load {path}: expected a model folder with {MANIFEST}, a .swc file or a "
            ".hoc file"
        )
    if overrides.get("template_args"):
        overrides = dict(overrides)
        overrides["template_args"] = [_cwd_path_arg(a, root)
                                      for a in overrides["template_args"]]
    manifest = _apply_overrides(manifest, overrides, source)
    return _build_spec(manifest, root, source)


def _cwd_path_arg(arg: Any, root: Path) -> Any:
    """A template argument typed on the command line that names a file relative to the
    current folder (``morphologies/cell1.asc``), made absolute: hoc runs in the cell's folder,
    where that relative name would not be found. Anything else is passed on unchanged."""
    if not isinstance(arg, str) or not arg or Path(arg).is_absolute():
        return arg
    try:
        here, there = (Path.cwd() / arg), (root / arg)
        if here.exists() and not there.exists():
            return str(here.resolve())
    except OSError:  # a string too long or odd to be a path is just a string
        pass
    return arg


def neuron_hoc_library() -> list[Path]:
    """Folders hoc's ``load_file`` searches after the current one: ``$HOC_LIBRARY_PATH``
    (space- or colon-separated), then NEURON's own ``lib/hoc`` (stdrun.hoc, import3d.hoc,
    nrngui.hoc ...). Found without importing NEURON."""
    dirs = [Path(d) for d in re.split(r"[\s:]+", os.environ.get("HOC_LIBRARY_PATH", "")) if d]
    homes = [Path(os.environ["NEURONHOME"])] if os.environ.get("NEURONHOME") else []
    try:
        found = importlib.util.find_spec("neuron")
    except (ImportError, ValueError):
        found = None
    for loc in (found.submodule_search_locations or []) if found else []:
        homes.append(Path(loc) / ".data" / "share" / "nrn")
    dirs += [home / "lib" / "hoc" for home in homes]
    return [d for d in dirs if d.is_dir()]


def hoc_library_name(path: Path) -> str | None:
    """The name to give hoc's ``load_file`` for a file of NEURON's hoc library (None for the
    user's own files). By name, so that a later ``load_file("import3d.hoc")`` in the user's
    code sees it loaded; by its full path NEURON would load it a second time and fail."""
    for lib in neuron_hoc_library():
        try:
            return Path(path).resolve().relative_to(lib.resolve()).as_posix()
        except ValueError:
            continue
    return None


def _load_file_path(base: Path, rel: Any, source: str) -> Path:
    """A hoc file to load, found as hoc's ``load_file`` finds it: relative to ``base`` (the
    folder the name is relative to), else by name in NEURON's hoc library."""
    path = (base / Path(rel)).expanduser().resolve()
    if path.exists():
        return path
    for lib in neuron_hoc_library():
        if (lib / Path(rel)).is_file():
            return (lib / Path(rel)).resolve()
    raise CellLoadError(
        f"{source}: load file {path} does not exist (nor is {Path(rel).as_posix()!r} a file of "
        f"NEURON's hoc library: {', '.join(str(d) for d in neuron_hoc_library()) or 'not found'})"
    )


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CellLoadError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise CellLoadError(f"{path}: expected a JSON object at the top level")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise CellLoadError(
            f"{path}: unknown key(s) {unknown}; allowed keys are {sorted(_KNOWN_KEYS)}"
        )
    return data


def _apply_overrides(manifest: dict, overrides: dict, source: str) -> dict[str, Any]:
    manifest = dict(manifest)
    sim = dict(manifest.get("simulation") or {})
    for key, value in overrides.items():
        if key in _SIM_KEYS:
            sim[key] = value
        elif key == "simulation":
            sim.update(value or {})
        elif key in _KNOWN_KEYS:
            if key in ("morphology", "biophysics", "hoc_file", "mechanisms") and value is not None:
                value = Path(value).expanduser().resolve()
            elif key == "load_files" and value is not None:
                value = [_load_file_path(Path.cwd(), v, source) for v in value]
            manifest[key] = value
        else:
            raise CellLoadError(
                f"unknown option {key!r} for {source}; allowed: "
                f"{sorted(_KNOWN_KEYS | _SIM_KEYS)}"
            )
    # A template given on top of a plain hoc file turns it into the template's definition.
    if overrides.get("template") and manifest.get("hoc_file") is not None:
        manifest.setdefault("load_files", [])
        manifest["load_files"] = list(manifest["load_files"]) + [manifest.pop("hoc_file")]
    manifest["simulation"] = sim
    return manifest


def _existing(root: Path, rel: Any, what: str, source: str) -> Path:
    path = (root / Path(rel)).expanduser().resolve()
    if not path.exists():
        raise CellLoadError(f"{source}: {what} {path} does not exist")
    return path


def _build_spec(m: dict[str, Any], root: Path, source: str) -> CellSpec:
    kinds = [k for k in ("morphology", "hoc_file", "template") if m.get(k)]
    if len(kinds) != 1:
        raise CellLoadError(
            f"{source}: give exactly one of 'morphology' (SWC), 'hoc_file' (plain hoc) or "
            f"'template' (hoc template); found {kinds or 'none'}"
        )
    kind = {"morphology": "swc", "hoc_file": "hoc", "template": "template"}[kinds[0]]
    if kind != "template" and (m.get("template_args") or m.get("load_files")):
        raise CellLoadError(
            f"{source}: 'template_args' / 'load_files' need 'template' (the template's name)"
        )
    morphology = hoc_file = None
    if kind == "swc":
        morphology = _existing(root, m["morphology"], "morphology", source)
        validate_swc(morphology)
    elif kind == "hoc":
        hoc_file = _existing(root, m["hoc_file"], "hoc file", source)
    load_files = tuple(_load_file_path(root, f, source) for f in m.get("load_files") or [])
    if kind == "template" and not load_files:
        raise CellLoadError(
            f"{source}: template {m['template']!r} needs 'load_files', the hoc file(s) that "
            "define it"
        )
    args = m.get("template_args") or []
    if not isinstance(args, (list, tuple)) or not all(
        isinstance(a, (str, int, float)) and not isinstance(a, bool) for a in args
    ):
        raise CellLoadError(f"{source}: 'template_args' must be a list of strings and numbers")

    biophysics = biophysics_data = None
    if m.get("biophysics"):
        biophysics = _existing(root, m["biophysics"], "biophysics file", source)
        biophysics_data = load_biophysics(biophysics)
    elif kind == "swc":
        raise CellLoadError(
            f"{source}: an SWC cell needs a biophysics file ('biophysics': mechanisms and "
            "parameters per section type; see reducer/cell/README.md)"
        )

    mechanisms_dir = _find_mechanisms_dir(m.get("mechanisms"), root, source)
    mod_files = tuple(sorted(mechanisms_dir.glob("*.mod"))) if mechanisms_dir else ()
    if mechanisms_dir is not None and not mod_files:
        raise MechanismError(f"{source}: mechanisms folder {mechanisms_dir} has no .mod files")
    if biophysics_data is not None:
        _check_inserted_mechanisms(biophysics, biophysics_data, mod_files, mechanisms_dir)

    given = m.get("simulation") or {}
    celsius_from = "given" if "celsius" in given else "default"
    if celsius_from == "default" and kind != "swc":
        found = _hoc_celsius([hoc_file, *load_files])
        if found is not None:
            given = {**given, "celsius": found[0]}
            celsius_from = found[1]
    sim = {**DEFAULT_SIMULATION, **given}
    unknown = sorted(set(sim) - _SIM_KEYS)
    if unknown:
        raise CellLoadError(f"{source}: unknown simulation key(s) {unknown}; allowed {_SIM_KEYS}")
    try:
        sim = {k: float(v) for k, v in sim.items()}
    except (TypeError, ValueError) as exc:
        raise CellLoadError(f"{source}: simulation values must be numbers ({exc})") from exc
    if sim["dt_ms"] <= 0:
        raise CellLoadError(f"{source}: simulation dt_ms must be > 0, got {sim['dt_ms']}")
    keep_stimuli = m.get("keep_stimuli", False)
    if not isinstance(keep_stimuli, bool):
        raise CellLoadError(f"{source}: 'keep_stimuli' must be true or false")
    soma = m.get("soma")
    if soma is not None and not isinstance(soma, str):
        raise CellLoadError(f"{source}: 'soma' must be a section or SectionList name")
    return CellSpec(
        name=str(m.get("name") or root.name), root=root, kind=kind, morphology=morphology,
        hoc_file=hoc_file, template=m.get("template"), load_files=load_files,
        template_args=tuple(args), biophysics=biophysics, biophysics_data=biophysics_data,
        soma=soma, mechanisms_dir=mechanisms_dir, mod_files=mod_files, celsius=sim["celsius"],
        v_init_mV=sim["v_init_mV"], dt_ms=sim["dt_ms"],
        description=str(m.get("description") or ""), keep_stimuli=keep_stimuli,
        celsius_from=celsius_from,
    )


_CELSIUS = re.compile(r"^\s*\{?\s*celsius\s*=\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*\}?\s*"
                      r"(?://.*)?$")


_LOADS = re.compile(r'(?:load_file|xopen|load_proc)\(\s*(?:\d+\s*,\s*)?"([^"]+)"')


def _hoc_celsius(files: list[Path | None]) -> tuple[float, str] | None:
    """The temperature the cell's own hoc sets (its last top-level ``celsius = <number>``,
    following the files it loads with a literal ``load_file("...")`` / ``xopen("...")``), so
    that a plain-hoc model runs at its published temperature, as under nrniv."""
    found = None
    seen: set[Path] = set()

    def scan(path: Path, depth: int) -> None:
        nonlocal found
        if path in seen or depth > 8 or hoc_library_name(path):
            return
        seen.add(path)
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            return
        for number, line in enumerate(lines, 1):
            code = line.split("//")[0]
            match = _CELSIUS.match(code)
            if match:
                found = (float(match.group(1)), f"{path}:{number}")
            for name in _LOADS.findall(code):
                for base in (path.parent, Path.cwd()):
                    if (base / name).is_file():
                        scan((base / name).resolve(), depth + 1)
                        break

    for path in files:
        if path is not None:
            scan(Path(path).resolve(), 0)
    return found


def _find_mechanisms_dir(rel: Any, root: Path, source: str) -> Path | None:
    if rel:
        path = _existing(root, rel, "mechanisms folder", source)
        if not path.is_dir():
            raise MechanismError(f"{source}: mechanisms {path} is not a folder")
        return path
    # Unnamed: the usual places, a mechanisms/ subfolder or .mod files beside the cell.
    if (root / "mechanisms").is_dir() and any((root / "mechanisms").glob("*.mod")):
        return root / "mechanisms"
    if any(root.glob("*.mod")):
        return root
    return None


def _check_inserted_mechanisms(
    biophysics: Path, data: dict, mod_files: tuple[Path, ...], mechanisms_dir: Path | None
) -> None:
    """Fail before NEURON does when the biophysics inserts a mechanism nobody defines."""
    density, point = mechanism_names(mod_files)
    available = density | BUILTIN_DENSITY_MECHANISMS
    for group, params in data["sections"].items():
        for mech in params.get("insert", {}):
            if mech in available:
                continue
            where = f"the mechanisms folder {mechanisms_dir}" if mechanisms_dir else (
                "any mechanisms folder (none is set: add 'mechanisms' to cell.json)")
            if mech in point or mech in BUILTIN_POINT_PROCESSES:
                raise MechanismError(
                    f"{biophysics}: section group {group!r} inserts {mech!r}, which is a "
                    "POINT_PROCESS, not a density mechanism; 'insert' takes SUFFIX names"
                )
            raise MechanismError(
                f"{biophysics}: section group {group!r} inserts mechanism {mech!r}, but no .mod "
                f"file in {where} defines SUFFIX {mech} and it is not built into NEURON "
                f"({', '.join(sorted(BUILTIN_DENSITY_MECHANISMS))}); add its .mod file there"
            )

