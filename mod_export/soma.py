"""The soma description (``reducer.nmodl2jax.describe_soma`` format), checked and typed.

Input format::

    {"sections": ["soma[0]"], "area_um2": .., "L_um": .., "diam_um": .., "cm_uF_per_cm2": ..,
     "Ra_ohm_cm": .., "celsius_degC": ..,
     "mechanisms": [{"name": "na_p08", "mod_file": "/abs/na_p08.mod" or None (built-in),
                     "range": {"gbar": 0.05}, "global": {...}}, ...],
     "ions": {"na": {"ena": 50.0}, "ca": {"cai": 5e-05, "cao": 2.0}, ...},
     "ion_styles": {"ca": {"style": 55, "ci0": 5e-05, "co0": 2.0}, ...}}   (optional)

``style`` is what ``h.ion_style("ca_ion")`` returns; a mechanism may carry ``"usetable"``
(the process-wide ``usetable_<name>``). Other keys (dt_ms, constants, charge) are ignored.

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
    usetable: float | None = None


@dataclass(frozen=True)
class IonStyle:
    """An ion's ``ion_style`` in the soma and its initial-concentration globals.

    ``style`` is NEURON's packed integer as ``h.ion_style("<ion>_ion")`` returns it:
    c_style + 4 cinit + 8 e_style + 32 einit + 64 eadvance, plus the bits NEURON sets itself
    when a mechanism WRITEs the concentration (128 for ci, 256 for co; eion.cpp
    ``nrn_check_conc_write``). Those two are kept as read but are no argument of
    ``ion_style``: the rebuilt soma's own mechanisms set them again.
    """

    style: int
    ci0: float | None = None
    co0: float | None = None

    @property
    def arguments(self) -> tuple[int, int, int, int, int]:
        """``(c_style, e_style, einit, eadvance, cinit)``: the arguments of ``ion_style``."""
        s = self.style
        return s & 3, (s >> 3) & 3, (s >> 5) & 1, (s >> 6) & 1, (s >> 2) & 1


@dataclass(frozen=True)
class SomaSpec:
    """Geometry, passive properties, mechanisms and ion settings of the soma to rebuild."""

    area_um2: float
    cm_uF_per_cm2: float
    Ra_ohm_cm: float
    celsius_degC: float | None
    mechanisms: tuple[SomaMechanism, ...]
    ions: dict[str, dict[str, float]]
    ion_styles: dict[str, IonStyle] = field(default_factory=dict)
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
        usetable = raw.get("usetable")
        mechanisms.append(SomaMechanism(
            name, mod_file, _values(raw.get("range"), f"mechanism '{name}' range"),
            _values(raw.get("global"), f"mechanism '{name}' global"),
            None if usetable is None else _number(usetable, f"mechanism '{name}' usetable")))
    ions_raw = desc.get("ions") or {}
    if not isinstance(ions_raw, dict):
        raise ExportError("soma description: 'ions' must be a dict ion -> {name: value}")
    ions = {_ident(ion, "ion"): _ion_values(ion, vals) for ion, vals in ions_raw.items()}
    styles = {}
    for ion, raw in (desc.get("ion_styles") or {}).items():
        if not isinstance(raw, dict) or "style" not in raw:
            raise ExportError(f"soma description: ion_styles[{ion!r}] needs a 'style' number")
        style = _number(raw["style"], f"ion_styles[{ion!r}]['style']")
        if style != int(style) or not 0 <= style < 2**31:
            raise ExportError(f"soma description: ion_styles[{ion!r}]['style'] = {style} is not "
                              "a value h.ion_style() returns (a non-negative integer)")
        ci0, co0 = raw.get("ci0"), raw.get("co0")
        styles[_ident(ion, "ion")] = IonStyle(
            int(style),
            None if ci0 is None else _number(ci0, f"ion_styles[{ion!r}]['ci0']"),
            None if co0 is None else _number(co0, f"ion_styles[{ion!r}]['co0']"))
    celsius = desc.get("celsius_degC")
    return SomaSpec(
        area_um2=_number(desc["area_um2"], "area_um2", positive=True),
        cm_uF_per_cm2=_number(desc["cm_uF_per_cm2"], "cm_uF_per_cm2", positive=True),
        Ra_ohm_cm=_number(desc["Ra_ohm_cm"], "Ra_ohm_cm", positive=True),
        celsius_degC=None if celsius is None else _number(celsius, "celsius_degC"),
        mechanisms=tuple(mechanisms),
        ions=ions,
        ion_styles=styles,
        sections=tuple(str(s) for s in desc.get("sections", ())),
        original_L_um=desc.get("L_um"),
        original_diam_um=desc.get("diam_um"),
    )
