"""NEURON side: describe the soma of an instantiated cell for :func:`build_membrane`.

Runs inside the NEURON process that holds the cell. Parameter values are read from the
cell itself (RANGE values as the cell set them, area-weighted over soma segments; GLOBALs as
they are in this process), so the JAX membrane reproduces this very soma.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from reducer.errors import MechanismError
from reducer.nmodl2jax.mechanism import names_assigned_in
from reducer.nmodl2jax.modinfo import BUILTIN_MECHANISMS, builtin_mod_path, read_mod
from reducer.nmodl2jax.source import ModSource

# Mechanisms NEURON inserts or provides that are not channels of the soma.
_SKIP = {"morphology", "capacitance", "extracellular"}


def suffix_map(mod_files: list[Path]) -> dict[str, Path]:
    """SUFFIX name -> .mod file, for every density mechanism among ``mod_files``."""
    out: dict[str, Path] = {}
    for f in mod_files:
        f = Path(f)
        text = "\n".join(ModSource(f, f.read_text()).lines)
        m = re.search(r"\bSUFFIX\s+(\w+)", text)
        if m:
            out[m.group(1)] = f.resolve()
    return out


def _writes_conc(info) -> bool:
    return any(w in (u.ion + "i", u.ion + "o") for u in info.useions for w in u.write)


def _mech_order() -> dict[str, int]:
    from neuron import h

    mt = h.MechanismType(0)
    name = h.ref("")
    order = {}
    for i in range(int(mt.count())):
        mt.select(i)
        mt.selected(name)
        order[name[0]] = i
    return order


def describe_soma(soma_sections: list, mod_files: list[Path]) -> dict:
    """Describe the soma (geometry, mechanisms with this cell's parameter values, ions).

    Args:
        soma_sections: the nrn.Section objects that make up the soma.
        mod_files: the .mod files available to the cell (to map mechanism names to files).

    Returns:
        A JSON-serialisable dict (see the package docstring for its fields).

    Raises:
        MechanismError: a soma mechanism has no .mod file among ``mod_files`` and is not
            a built-in the translator knows.
    """
    from neuron import h

    segs = [seg for sec in soma_sections for seg in sec]
    if not segs:
        raise MechanismError("describe_soma: no soma segments were given")
    areas = [seg.area() for seg in segs]
    total = sum(areas)

    def wmean(values: list[float]) -> float:
        return sum(a * v for a, v in zip(areas, values, strict=True)) / total

    files = suffix_map(mod_files)
    order = _mech_order()
    names: list[str] = []
    for seg in segs:
        for mech in seg:
            n = mech.name()
            if n.endswith("_ion") or n in _SKIP or n in names:
                continue
            names.append(n)
    infos = {}
    for n in names:
        path = files.get(n)
        if path is None and n not in BUILTIN_MECHANISMS:
            raise MechanismError(
                f"soma mechanism {n}: no .mod file with SUFFIX {n} among the cell's mechanism "
                "files, and it is not a NEURON built-in the translator knows (hh, pas)")
        infos[n] = read_mod(path if path is not None else builtin_mod_path(n))
    # NEURON runs mechanisms that WRITE an ion concentration right after the ion mechanisms
    # (nrn_writes_conc reorders memb_order_), then the rest in mechanism-type order.
    names.sort(key=lambda n: (0 if _writes_conc(infos[n]) else 1, order.get(n, 10**6)))
    mechanisms = []
    ions: set[str] = set()
    for n in names:
        path = files.get(n)
        info = infos[n]
        missing = [s for s in segs if not hasattr(s, n)]
        if missing:
            raise MechanismError(f"mechanism {n} is inserted in only part of the soma; "
                                 "insert it in every soma section")
        assigned = names_assigned_in(info.initial, info.breakpoint, *info.derivatives.values(),
                                   *info.kinetics.values(),
                                   *(c.body for c in info.callables.values()))
        range_names = info.range_parameters() + [
            a for a in info.assigned if a in info.range_vars and a not in assigned
            and a not in info.ion_vars() and a != "v"]
        rng = {}
        for p in range_names:
            try:
                rng[p] = wmean([getattr(getattr(seg, n), p) for seg in segs])
            except (AttributeError, LookupError, TypeError):
                continue
        glob = {}
        for p in info.global_parameters():
            try:
                glob[p] = float(getattr(h, f"{p}_{n}"))
            except (AttributeError, LookupError, TypeError):
                continue
        entry = {"name": n, "mod_file": str(path) if path is not None else None,
                 "range": rng, "global": glob}
        try:
            entry["usetable"] = float(getattr(h, f"usetable_{n}"))
        except (AttributeError, LookupError):
            pass
        mechanisms.append(entry)
        ions.update(u.ion for u in info.useions)
    ion_values = {}
    ion_styles = {}
    sec0 = soma_sections[0]
    for ion in sorted(ions):
        vals = {}
        for var in (f"e{ion}", f"{ion}i", f"{ion}o"):
            vals[var] = wmean([getattr(seg, var) for seg in segs])
        ion_values[ion] = vals
        ion_styles[ion] = {
            "style": int(h.ion_style(f"{ion}_ion", sec=sec0)),
            "charge": float(h.ion_charge(f"{ion}_ion")),
            "ci0": float(getattr(h, f"{ion}i0_{ion}_ion")),
            "co0": float(getattr(h, f"{ion}o0_{ion}_ion")),
        }
    sec_areas = [sum(seg.area() for seg in sec) for sec in soma_sections]
    return {
        "sections": [sec.name() for sec in soma_sections],
        "area_um2": total,
        "L_um": math.sqrt(total / math.pi),
        "diam_um": math.sqrt(total / math.pi),
        "cm_uF_per_cm2": wmean([seg.cm for seg in segs]),
        "Ra_ohm_cm": sum(a * sec.Ra for a, sec in zip(sec_areas, soma_sections, strict=True))
        / total,
        "celsius_degC": float(h.celsius),
        "dt_ms": float(h.dt),
        "constants": {"R": float(h.R), "FARADAY": float(h.FARADAY)},
        "mechanisms": mechanisms,
        "ions": ion_values,
        "ion_styles": ion_styles,
    }
