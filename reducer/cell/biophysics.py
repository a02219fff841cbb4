"""Biophysics files: which mechanisms and parameters go into which sections.

Format (JSON; YAML too when PyYAML is installed)::

    {"nseg": {"rule": "d_lambda", "d_lambda": 0.1, "frequency_Hz": 100.0},
     "sections": {
        "all":  {"Ra": 100, "cm": 1,
                 "insert": {"na_p08": {"gbar": 0.05}, "pas": {"g": 1e-4, "e": -70}},
                 "set": {"ena": 50, "ek": -90}},
        "soma": {"insert": {"km_p08": {"gbar": 7e-5}}},
        "axon": {...}, "dend": {...}, "apic": {...}}}

* ``nseg`` (optional): ``{"rule": "d_lambda", "d_lambda": 0.1, "frequency_Hz": 100}``,
  ``{"rule": "fixed", "nseg": 1}`` or ``{"rule": "keep"}`` (leave the hoc code's nseg). Without
  it an SWC cell uses d_lambda 0.1 at 100 Hz and a hoc cell keeps its own nseg.
* ``sections``: groups applied in the order ``all``, ``soma``, ``axon``, ``dend``, ``apic``,
  then any other group in file order; a later group overrides an earlier one. ``soma`` is the
  cell's soma (see ``soma`` in cell.json); ``axon``/``dend``/``apic`` are the sections whose
  name starts with that word (SWC types 2/3/4) or that a template's ``axonal``/``basal``/
  ``apical`` SectionList holds. Any other group name selects sections of that base name
  (``hillock`` → ``hillock``, ``hillock[0]`` ...) or a SectionList of that name.
* In a group: ``Ra`` (ohm cm), ``cm`` (uF/cm2), ``insert`` (mechanism → parameters, named
  without the suffix: ``gbar`` of ``na_p08`` sets ``gbar_na_p08``), ``set`` (any other range
  variable, set on every segment: ``ena``, ``ek``, ``cai``, ``e_pas`` ...). An ion variable
  (``ena``, ``cai`` ...) is only set in sections where that ion exists.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from reducer.cell.mechanisms import loaded_mechanisms
from reducer.errors import CellLoadError, MechanismError

STANDARD_GROUPS = ("all", "soma", "axon", "dend", "apic")
_GROUP_KEYS = {"Ra", "cm", "insert", "set"}
_TOP_KEYS = {"nseg", "sections", "description"}


def load_biophysics(path: Path) -> dict[str, Any]:
    """Read and validate a biophysics file; returns ``{"nseg": dict|None, "sections": dict}``.

    Raises:
        CellLoadError: the file is not valid JSON/YAML or does not follow the format.
    """
    path = Path(path)
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # optional dependency
        except ImportError as exc:
            raise CellLoadError(
                f"{path}: reading YAML needs PyYAML (pip install pyyaml); or write it as JSON"
            ) from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CellLoadError(f"{path}: invalid YAML: {exc}") from exc
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CellLoadError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    return validate_biophysics(data, str(path))


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CellLoadError(f"{where}: expected a number, got {value!r}")
    return float(value)


def validate_biophysics(data: Any, source: str) -> dict[str, Any]:
    """Check the structure of parsed biophysics data and normalise numbers to float."""
    if not isinstance(data, dict):
        raise CellLoadError(f"{source}: expected an object with 'sections' (and 'nseg')")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise CellLoadError(f"{source}: unknown key(s) {unknown}; allowed {sorted(_TOP_KEYS)}")
    sections = data.get("sections")
    if not isinstance(sections, dict) or not sections:
        raise CellLoadError(f"{source}: 'sections' must map section groups to their settings")
    out_sections: dict[str, dict] = {}
    for group, params in sections.items():
        where = f"{source}: sections.{group}"
        if not isinstance(params, dict):
            raise CellLoadError(f"{where}: expected an object")
        bad = sorted(set(params) - _GROUP_KEYS)
        if bad:
            raise CellLoadError(f"{where}: unknown key(s) {bad}; allowed {sorted(_GROUP_KEYS)}")
        norm: dict[str, Any] = {}
        for key in ("Ra", "cm"):
            if key in params:
                norm[key] = _number(params[key], f"{where}.{key}")
        insert = params.get("insert", {})
        if not isinstance(insert, dict):
            raise CellLoadError(f"{where}.insert: expected mechanism name → parameters")
        norm["insert"] = {}
        for mech, mech_params in insert.items():
            if not isinstance(mech_params, dict):
                raise CellLoadError(f"{where}.insert.{mech}: expected parameter → value ({{}} ok)")
            norm["insert"][mech] = {
                p: _number(v, f"{where}.insert.{mech}.{p}") for p, v in mech_params.items()
            }
        sets = params.get("set", {})
        if not isinstance(sets, dict):
            raise CellLoadError(f"{where}.set: expected attribute → value")
        norm["set"] = {k: _number(v, f"{where}.set.{k}") for k, v in sets.items()}
        out_sections[group] = norm
    return {"nseg": validate_nseg_rule(data.get("nseg"), source), "sections": out_sections}


def validate_nseg_rule(rule: Any, source: str) -> dict[str, Any] | None:
    """Normalise the ``nseg`` entry; None when absent."""
    if rule is None:
        return None
    if not isinstance(rule, dict) or rule.get("rule") not in ("d_lambda", "fixed", "keep"):
        raise CellLoadError(
            f"{source}: nseg must be {{\"rule\": \"d_lambda\", \"d_lambda\": 0.1, "
            f"\"frequency_Hz\": 100}}, {{\"rule\": \"fixed\", \"nseg\": 1}} or "
            f"{{\"rule\": \"keep\"}}; got {rule!r}"
        )
    if rule["rule"] == "d_lambda":
        d_lambda = _number(rule.get("d_lambda", 0.1), f"{source}: nseg.d_lambda")
        freq = _number(rule.get("frequency_Hz", 100.0), f"{source}: nseg.frequency_Hz")
        if d_lambda <= 0 or freq <= 0:
            raise CellLoadError(f"{source}: nseg d_lambda and frequency_Hz must be > 0")
        return {"rule": "d_lambda", "d_lambda": d_lambda, "frequency_Hz": freq}
    if rule["rule"] == "fixed":
        n = rule.get("nseg")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise CellLoadError(f"{source}: nseg.nseg must be a positive integer, got {n!r}")
        return {"rule": "fixed", "nseg": n}
    return {"rule": "keep"}


def ordered_groups(sections: dict[str, Any]) -> list[str]:
    """Group names in application order: the standard groups first, then file order."""
    standard = [g for g in STANDARD_GROUPS if g in sections]
    return standard + [g for g in sections if g not in STANDARD_GROUPS]


def apply_biophysics(
    h: Any, groups: dict[str, list], data: dict[str, Any], source: str
) -> None:
    """Insert mechanisms and set parameters, group by group (later groups override).

    Args:
        h: ``neuron.h``.
        groups: Group name → sections it selects (every group of ``data`` must be present).
        data: Validated biophysics (:func:`validate_biophysics`).
        source: File name used in error messages.

    Raises:
        MechanismError: a mechanism cannot be inserted or lacks a parameter.
        CellLoadError: an attribute in ``set`` does not exist.
    """
    density, _ = loaded_mechanisms(h)
    for group in ordered_groups(data["sections"]):
        params = data["sections"][group]
        for sec in groups[group]:
            if "Ra" in params:
                sec.Ra = params["Ra"]
            if "cm" in params:
                sec.cm = params["cm"]
            for mech, mech_params in params["insert"].items():
                _insert(sec, mech, mech_params, group, source)
            for attr, value in params["set"].items():
                _set(sec, attr, value, group, source, density)


def _insert(sec: Any, mech: str, params: dict[str, float], group: str, source: str) -> None:
    try:
        sec.insert(mech)
    except ValueError as exc:
        raise MechanismError(
            f"{source}: sections.{group} inserts {mech!r} in {sec.name()}, which NEURON does not "
            f"know ({exc}); add its .mod file to the cell's mechanisms folder"
        ) from exc
    for param, value in params.items():
        name = f"{param}_{mech}"
        try:
            for seg in sec:
                setattr(seg, name, value)
        except (AttributeError, NameError, LookupError) as exc:
            raise MechanismError(
                f"{source}: sections.{group}.insert.{mech}: mechanism {mech!r} has no parameter "
                f"{param!r} (NEURON name {name}); use a RANGE/PARAMETER name of its .mod file"
            ) from exc


def _set(
    sec: Any, attr: str, value: float, group: str, source: str, mechanisms: set[str]
) -> None:
    ion = _ion_of(attr, mechanisms)
    if ion is not None and not sec.has_membrane(f"{ion}_ion"):
        return  # the ion is absent here: nothing to set (as `ismembrane()` guards in hoc)
    try:
        for seg in sec:
            setattr(seg, attr, value)
    except (AttributeError, NameError, LookupError, ValueError) as exc:
        raise CellLoadError(
            f"{source}: sections.{group}.set: cannot set {attr!r} in {sec.name()} ({exc}); use a "
            "range variable that exists there (mechanism parameters go under 'insert')"
        ) from exc


def _ion_of(attr: str, mechanisms: set[str]) -> str | None:
    """The ion whose variable ``attr`` is (``ena`` → ``na``, ``cai`` → ``ca``), else None."""
    candidates = []
    if attr.startswith("e"):
        candidates.append(attr[1:])
    if attr.endswith(("i", "o")):
        candidates.append(attr[:-1])
    for ion in candidates:
        if ion and f"{ion}_ion" in mechanisms:
            return ion
    return None

