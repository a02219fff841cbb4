"""The soma description (``reducer.nmodl2jax.describe_soma`` format), checked and typed.

Input format::

    {"sections": ["soma[0]"], "area_um2": .., "L_um": .., "diam_um": .., "cm_uF_per_cm2": ..,
     "Ra_ohm_cm": .., "celsius_degC": ..,
     "mechanisms": [{"name": "na_p08", "mod_file": "/abs/na_p08.mod" or None (built-in),
                     "range": {"gbar": 0.05}, "global": {...}}, ...],
     "ions": {"na": {"ena": 50.0}, "ca": {"cai": 5e-05, "cao": 2.0}, ...}}

Every name that ends up in hoc is checked to be a plain identifier and every value finite,
so the generated template cannot be malformed by its input.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reducer.errors import ExportError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SomaMechanism:
    """One mechanism inserted in the soma (``mod_file`` None for NEURON built-ins)."""

    name: str
    mod_file: Path | None
    range_values: dict[str, float] = field(default_factory=dict)
    global_values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SomaSpec:
    """Geometry, passive properties, mechanisms and ion settings of the soma to rebuild."""

    area_um2: float
    cm_uF_per_cm2: float
    Ra_ohm_cm: float
    celsius_degC: float | None
    mechanisms: tuple[SomaMechanism, ...]
    ions: dict[str, dict[str, float]]
    sections: tuple[str, ...] = ()
    original_L_um: float | None = None
    original_diam_um: float | None = None

    @property
    def diam_um(self) -> float:
        """Diameter (= length) of the one-cylinder soma with the original area."""
        return math.sqrt(self.area_um2 / math.pi)


def _ident(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise ExportError(f"soma description: {what} {value!r} is not a valid NEURON identifier")
    return value


def _number(value: Any, what: str, positive: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ExportError(f"soma description: {what} must be a number, got {value!r}") from None
    if not math.isfinite(x) or (positive and x <= 0.0):
        need = "a finite positive number" if positive else "finite"
        raise ExportError(f"soma description: {what} is {x}; it must be {need}")
    return x


def _values(raw: Any, what: str) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ExportError(f"soma description: {what} must be a dict name -> value")
    return {_ident(k, f"{what} name"): _number(v, f"{what}[{k!r}]") for k, v in raw.items()}


def _ion_values(ion: str, raw: Any) -> dict[str, float]:
    """Reversal potential / concentrations of one ion; other keys (valence, style) are skipped."""
    if not isinstance(raw, dict):
        raise ExportError(f"soma description: ions[{ion!r}] must be a dict, got {raw!r}")
    allowed = {f"e{ion}", f"{ion}i", f"{ion}o"}
    return {k: _number(v, f"ions[{ion!r}][{k!r}]") for k, v in raw.items() if k in allowed}


def parse_soma_description(desc: dict[str, Any]) -> SomaSpec:
    """Check ``desc`` and return it as a :class:`SomaSpec`.

    Raises:
        ExportError: a missing key, a non-finite value, a bad name or a missing mod file.
    """
    if not isinstance(desc, dict):
        raise ExportError(f"soma description must be a dict, got {type(desc).__name__}")
    for key in ("area_um2", "cm_uF_per_cm2", "Ra_ohm_cm", "mechanisms"):
        if key not in desc:
            raise ExportError(
                f"soma description lacks '{key}' (see reducer.nmodl2jax.describe_soma)")
    mechanisms = []
    seen: set[str] = set()
    for i, raw in enumerate(desc["mechanisms"]):
        if not isinstance(raw, dict) or "name" not in raw:
            raise ExportError(f"soma description: mechanisms[{i}] must be a dict with a 'name'")
        name = _ident(raw["name"], f"mechanisms[{i}] name")
        if name in seen:
            raise ExportError(f"soma description lists mechanism '{name}' twice")
        seen.add(name)
        mod_file = raw.get("mod_file")
        if mod_file is not None:
            mod_file = Path(mod_file)
            if not mod_file.is_file():
                raise ExportError(
                    f"soma mechanism '{name}': its mod file {mod_file} does not exist; pass the "
                    "cell's mechanism folder or fix 'mod_file' in the soma description"
                )
        mechanisms.append(SomaMechanism(
            name, mod_file, _values(raw.get("range"), f"mechanism '{name}' range"),
            _values(raw.get("global"), f"mechanism '{name}' global")))
    ions_raw = desc.get("ions") or {}
    if not isinstance(ions_raw, dict):
        raise ExportError("soma description: 'ions' must be a dict ion -> {name: value}")
    ions = {_ident(ion, "ion"): _ion_values(ion, vals) for ion, vals in ions_raw.items()}
    celsius = desc.get("celsius_degC")
    return SomaSpec(
        area_um2=_number(desc["area_um2"], "area_um2", positive=True),
        cm_uF_per_cm2=_number(desc["cm_uF_per_cm2"], "cm_uF_per_cm2", positive=True),
        Ra_ohm_cm=_number(desc["Ra_ohm_cm"], "Ra_ohm_cm", positive=True),
        celsius_degC=None if celsius is None else _number(celsius, "celsius_degC"),
        mechanisms=tuple(mechanisms),
        ions=ions,
        sections=tuple(str(s) for s in desc.get("sections", ())),
        original_L_um=desc.get("L_um"),
        original_diam_um=desc.get("diam_um"),
    )
