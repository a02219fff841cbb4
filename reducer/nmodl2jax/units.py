"""Numeric values of NMODL UNITS factor definitions, e.g. ``FARADAY = (faraday) (coulomb)``.

nocmodl computes such a factor as the size of the first unit expressed in the second,
using NEURON's units database ``nrnunits.lib`` (CODATA 2018 constants) and a built-in
prefix table. This module reads the same database so the constants agree with NEURON.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

# nocmodl's built-in prefixes (longest names first so "milli" wins over "m").
_PREFIXES = [
    ("yotta", 1e24), ("zetta", 1e21), ("exa", 1e18), ("peta", 1e15), ("tera", 1e12),
    ("giga", 1e9), ("mega", 1e6), ("myria", 1e4), ("kilo", 1e3), ("hecto", 1e2),
    ("hecta", 1e2), ("deka", 1e1), ("deci", 1e-1), ("centi", 1e-2), ("milli", 1e-3),
    ("micro", 1e-6), ("nano", 1e-9), ("pico", 1e-12), ("femto", 1e-15), ("atto", 1e-18),
    ("zopto", 1e-21), ("yocto", 1e-24), ("semi", 0.5), ("demi", 0.5), ("meg", 1e6),
    ("da", 1e1), ("Y", 1e24), ("Z", 1e21), ("E", 1e18), ("P", 1e15), ("T", 1e12),
    ("G", 1e9), ("M", 1e6), ("k", 1e3), ("h", 1e2), ("d", 1e-1), ("c", 1e-2), ("m", 1e-3),
    ("u", 1e-6), ("n", 1e-9), ("p", 1e-12), ("f", 1e-15), ("a", 1e-18), ("z", 1e-21),
    ("y", 1e-24),
]

_NUM = re.compile(r"^([0-9]*\.?[0-9]+|[0-9]+\.)([+-][0-9]+)?(\|([0-9]*\.?[0-9]+))?")


def _lib_path() -> Path:
    import neuron

    return Path(neuron.__file__).parent / ".data" / "share" / "nrn" / "lib" / "nrnunits.lib"


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for raw in _lib_path().read_text().splitlines():
        line = raw.split("/", 1)[0] if raw.startswith("/") else raw
        parts = line.split(None, 1)
        if len(parts) == 2 and not parts[0].endswith("-"):
            table.setdefault(parts[0], parts[1].strip())
    return table


def _parse_number(tok: str) -> tuple[float, int]:
    m = _NUM.match(tok)
    if not m:
        raise ValueError(tok)
    value = float(m.group(1)) * (10.0 ** int(m.group(2)) if m.group(2) else 1.0)
    if m.group(4):
        value /= float(m.group(4))
    return value, m.end()


class UnitTable:
    """NEURON's units database plus the unit definitions of one .mod file's UNITS block."""

    def __init__(self, local_defs: dict[str, str] | None = None) -> None:
        self._defs = dict(_table())
        self._defs.update(local_defs or {})
        self._cache: dict[str, float] = {}

    def scale(self, name: str, depth: int = 0) -> float:
        """Size of unit ``name`` in primitive units."""
        if name not in self._cache:
            self._cache[name] = self._lookup(name, depth)
        return self._cache[name]

    def _lookup(self, name: str, depth: int) -> float:
        if depth > 40:
            raise ValueError(f"unit definition loop at {name}")
        if re.fullmatch(r"\*[a-z]\*", self._defs.get(name, "")):
            return 1.0
        if name in self._defs:
            return self.expr_scale(self._defs[name], depth + 1)
        for prefix, factor in _PREFIXES:
            if name == prefix:
                return factor
        if name.endswith("s") and len(name) > 1:
            try:
                return self.scale(name[:-1], depth + 1)
            except ValueError:
                pass
        for prefix, factor in _PREFIXES:
            if name.startswith(prefix) and len(name) > len(prefix):
                try:
                    return factor * self.scale(name[len(prefix):], depth + 1)
                except ValueError:
                    continue
        raise ValueError(f"unknown unit {name!r}")

    def expr_scale(self, expr: str, depth: int = 0) -> float:
        """Scale of a unit expression such as ``1.380649-23 joule/K`` or ``e-mole``."""
        scale = 1.0
        denom = False
        i = 0
        s = expr.strip()
        while i < len(s):
            ch = s[i]
            if ch in " \t-*":
                i += 1
                continue
            if ch == "/":
                denom = True
                i += 1
                continue
            if ch.isdigit() or ch == ".":
                value, n = _parse_number(s[i:])
                scale = scale / value if denom else scale * value
                i += n
                continue
            m = re.match(r"[A-Za-z_][A-Za-z_]*", s[i:])
            if not m:
                raise ValueError(f"cannot read unit expression {expr!r}")
            name = m.group(0)
            i += m.end()
            power_m = re.match(r"[0-9]+", s[i:])
            power = 1
            if power_m:
                power = int(power_m.group(0))
                i += power_m.end()
            if name == "fuzz":
                continue
            value = self.scale(name, depth) ** power
            scale = scale / value if denom else scale * value
        return scale

    def factor(self, unit_from: str, unit_to: str) -> float:
        """Value of ``(unit_from) (unit_to)``: one ``unit_from`` expressed in ``unit_to``."""
        return self.expr_scale(unit_from) / self.expr_scale(unit_to)
