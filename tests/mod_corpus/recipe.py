"""NEURON side of the channel-corpus recipes in ``corpus.json``.

Each recipe describes a single-section soma (geometry, temperature, inserted mechanisms
and their RANGE parameters, ion settings, an IClamp step). This module compiles the
corpus, builds one recipe in NEURON and runs it at fixed dt, so that the corpus test and
the NMODL-to-JAX acceptance test interpret a recipe the same way.

How a recipe is applied (the contract):

* ``soma``: one section, ``nseg = 1``, ``L``/``diam`` in um, ``cm`` in uF/cm2; ``celsius``
  sets NEURON's global temperature.
* ``insert``: ``{suffix: {param: value}}``; each parameter is a RANGE variable set as
  ``seg.<param>_<suffix>``.
* ``ions``: ``ena``, ``ek``, ``eca`` are set on the section where that ion exists; ``cai``
  and ``cao`` set the globals ``cai0_ca_ion``/``cao0_ca_ion`` (what ``finitialize`` starts
  a written concentration from) and the section values. Where a mechanism writes ``cai``,
  NEURON recomputes ``eca`` from the Nernst equation each step.
* ``usetable_off``: mechanisms whose ``usetable_<suffix>`` is set to 0 (all others 1).
* ``stimulus``: IClamp at the soma centre; ``sim``: fixed ``dt_ms``, ``tstop_ms``,
  ``v_init_mV`` (``h.finitialize(v_init)``, then fixed-step ``fadvance``; CVode off,
  ``secondorder = 0``).

Run NEURON work in a fresh process (``reducer.isolated.run_isolated``): the compiled
corpus defines names such as ``NaTa_t`` that a later library could not redefine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from mod_export.compile import find_nrnivmodl

CORPUS_DIR = Path(__file__).resolve().parent
CORPUS_JSON = CORPUS_DIR / "corpus.json"
SPIKE_THRESHOLD_MV = -20.0

_loaded_libs: set[str] = set()


def load_corpus(path: str | Path = CORPUS_JSON) -> dict[str, Any]:
    """Read ``corpus.json`` and return it as a dict (key ``mechanisms``)."""
    with open(path) as f:
        return json.load(f)


def compile_corpus(build_dir: str | Path, mod_dir: str | Path = CORPUS_DIR,
                   timeout_s: float = 600) -> str:
    """Copy every ``.mod`` of ``mod_dir`` into ``build_dir`` and compile them with nrnivmodl.

    Args:
        build_dir: empty or new folder that receives the copies and the ``x86_64`` build.
        mod_dir: folder with the corpus ``.mod`` files.
        timeout_s: limit for the whole nrnivmodl run.

    Returns:
        Path of the compiled mechanism library (``libnrnmech.so``).

    Raises:
        RuntimeError: nrnivmodl failed (the message carries the end of its log).
    """
    build = Path(build_dir)
    build.mkdir(parents=True, exist_ok=True)
    for mod in sorted(Path(mod_dir).glob("*.mod")):
        shutil.copy2(mod, build / mod.name)
    proc = subprocess.run([find_nrnivmodl(), "."], cwd=build, capture_output=True, text=True,
                          timeout=timeout_s)
    libs = sorted(build.glob("*/libnrnmech.so")) + sorted(build.glob("*/.libs/libnrnmech.so"))
    if proc.returncode != 0 or not libs:
        log = (proc.stdout + proc.stderr)[-4000:]
        raise RuntimeError(f"nrnivmodl failed in {build} (exit {proc.returncode}):\n{log}")
    return str(libs[0])


def _h(lib_path: str):
    """Return NEURON's ``h`` with the corpus library and stdrun loaded (once per process)."""
    from neuron import h

    if lib_path not in _loaded_libs:
        if not h.nrn_load_dll(lib_path):
            raise RuntimeError(f"NEURON could not load {lib_path}")
        _loaded_libs.add(lib_path)
        h.load_file("stdrun.hoc")
    return h


def _set_usetables(h, corpus_tables: list[str], off: list[str]) -> None:
    for mech in corpus_tables:
        setattr(h, f"usetable_{mech}", 0 if mech in off else 1)


def build_recipe_soma(h, entry: dict[str, Any], without: str | None = None):
    """Make one recipe's single-segment soma in this NEURON process (fixed step, IClamp).

    Sets celsius, dt and the ions' start concentrations, inserts every mechanism of
    ``entry["insert"]`` (except ``without``) with its parameters, sets the recipe's ion values
    and globals, and adds the recipe's IClamp. ``usetable_<suffix>`` is left to the caller.

    Returns:
        ``(soma, seg, stim)``.
    """
    soma_spec, sim = entry["soma"], entry["sim"]
    ions, stim_spec = entry.get("ions", {}), entry["stimulus"]
    h.load_file("stdrun.hoc")  # defines steps_per_ms
    h.celsius = soma_spec["celsius"]
    h.dt = sim["dt_ms"]
    h.steps_per_ms = 1.0 / sim["dt_ms"]
    h.secondorder = 0
    h.CVode().active(0)
    if "cai" in ions:
        h.cai0_ca_ion = ions["cai"]
    if "cao" in ions:
        h.cao0_ca_ion = ions["cao"]

    soma = h.Section(name="soma")
    soma.nseg = 1
    soma.L = soma_spec["L_um"]
    soma.diam = soma_spec["diam_um"]
    soma.cm = soma_spec["cm"]
    seg = soma(0.5)
    for mech, params in entry["insert"].items():
        if mech == without:
            continue
        soma.insert(mech)
        for name, value in params.items():
            attr = f"{name}_{mech}"
            if not hasattr(seg, attr):
                raise KeyError(f"{entry['name']}: {attr} is not a RANGE variable of {mech}")
            setattr(seg, attr, value)
    for name, value in ions.items():
        if hasattr(seg, name):  # only ions some inserted mechanism uses
            setattr(seg, name, value)
    for name, value in entry.get("globals", {}).items():
        setattr(h, name, value)

    stim = h.IClamp(seg)
    stim.delay = stim_spec["delay_ms"]
    stim.dur = stim_spec["duration_ms"]
    stim.amp = stim_spec["amp_nA"]
    return soma, seg, stim


def simulate_recipe(entry: dict[str, Any], lib_path: str, without: str | None = None,
                    table_mechs: list[str] | None = None) -> dict[str, np.ndarray]:
    """Build one recipe's soma in NEURON, run it, and return its trace.

    Args:
        entry: one element of ``corpus.json["mechanisms"]``.
        lib_path: compiled corpus library (``compile_corpus``).
        without: a suffix of ``entry["insert"]`` to leave out (effect-size runs).
        table_mechs: suffixes that have a ``usetable_`` global; those not in the recipe's
            ``usetable_off`` are reset to 1, so recipes run one after another in one
            process do not inherit each other's setting. Defaults to ``usetable_off``.

    Returns:
        ``{"t_ms": ..., "v_mV": ..., "i_stim_nA": ...}`` sampled every ``dt_ms``, plus
        ``cai_mM`` and ``eca_mV`` where the soma has the ca ion.
    """
    h = _h(lib_path)
    if any(True for _ in h.allsec()):
        raise RuntimeError("simulate_recipe needs a process without other sections")
    sim = entry["sim"]
    off = list(entry.get("usetable_off", []))
    _set_usetables(h, sorted(set(table_mechs or []) | set(off)), off)

    soma, seg, stim = build_recipe_soma(h, entry, without)
    t_vec = h.Vector().record(h._ref_t)
    v_vec = h.Vector().record(seg._ref_v)
    i_vec = h.Vector().record(stim._ref_i)
    # Where some mechanism uses the ca ion, cai and eca are part of the trace too.
    has_ca = hasattr(seg, "cai")
    cai_vec = h.Vector().record(seg._ref_cai) if has_ca else None
    eca_vec = h.Vector().record(seg._ref_eca) if has_ca else None

    h.finitialize(sim["v_init_mV"])
    n_steps = int(round(sim["tstop_ms"] / sim["dt_ms"]))
    for _ in range(n_steps):
        h.fadvance()
    out = {"t_ms": np.array(t_vec), "v_mV": np.array(v_vec), "i_stim_nA": np.array(i_vec)}
    if has_ca:
        out["cai_mM"] = np.array(cai_vec)
        out["eca_mV"] = np.array(eca_vec)
    # Free the section so the next recipe starts from an empty model.
    del t_vec, v_vec, i_vec, cai_vec, eca_vec, stim, seg, soma
    return out


def spike_times(t_ms: np.ndarray, v_mV: np.ndarray, t_start_ms: float, t_stop_ms: float,
                threshold_mV: float = SPIKE_THRESHOLD_MV) -> np.ndarray:
    """Times (ms, step after the crossing) of upward crossings of ``threshold_mV`` in
    ``[t_start_ms, t_stop_ms)``."""
    up = (v_mV[:-1] < threshold_mV) & (v_mV[1:] >= threshold_mV)
    t_cross = t_ms[1:][up]
    return t_cross[(t_cross >= t_start_ms) & (t_cross < t_stop_ms)]


def count_spikes(t_ms: np.ndarray, v_mV: np.ndarray, t_start_ms: float, t_stop_ms: float,
                 threshold_mV: float = SPIKE_THRESHOLD_MV) -> int:
    """Count upward crossings of ``threshold_mV`` with ``t_start_ms <= t < t_stop_ms``."""
    return int(spike_times(t_ms, v_mV, t_start_ms, t_stop_ms, threshold_mV).size)


def summarize_recipes(lib_path: str, corpus_path: str | Path = CORPUS_JSON,
                      names: list[str] | None = None) -> list[dict[str, Any]]:
    """Run every recipe (or those in ``names``) with and without its own mechanism.

    Meant to run in a fresh process (``run_isolated``). For each recipe the spike count
    over the stimulus window is measured with the full recipe and with the recipe's own
    mechanism (``entry["name"]``) left out; ``max_abs_dv_mV`` is the largest voltage
    difference between the two runs.

    Returns:
        One dict per recipe: ``name``, ``n_spikes``, ``n_spikes_without``,
        ``max_abs_dv_mV``, ``dv_rest_mV`` (difference just before the stimulus),
        ``first_spike_ms`` and ``first_spike_without_ms`` (NaN if none), ``v_min_mV``,
        ``v_max_mV``, ``cai_max_mM`` and ``eca_range_mV`` (NaN without a ca ion),
        ``finite``, ``rate_hz``.
    """
    corpus = load_corpus(corpus_path)
    entries = [e for e in corpus["mechanisms"] if names is None or e["name"] in names]
    tables = sorted({m for e in corpus["mechanisms"] for m in e.get("usetable_off", [])}
                    | set(corpus.get("table_mechanisms", [])))
    rows = []
    for entry in entries:
        stim = entry["stimulus"]
        t0, t1 = stim["delay_ms"], stim["delay_ms"] + stim["duration_ms"]
        full = simulate_recipe(entry, lib_path, table_mechs=tables)
        cut = simulate_recipe(entry, lib_path, without=entry["name"], table_mechs=tables)
        spikes = spike_times(full["t_ms"], full["v_mV"], t0, t1)
        spikes_cut = spike_times(cut["t_ms"], cut["v_mV"], t0, t1)
        i_rest = int(np.searchsorted(full["t_ms"], t0)) - 1
        n = int(spikes.size)
        rows.append({
            "name": entry["name"],
            "n_spikes": n,
            "n_spikes_without": int(spikes_cut.size),
            "max_abs_dv_mV": float(np.max(np.abs(full["v_mV"] - cut["v_mV"]))),
            "dv_rest_mV": float(abs(full["v_mV"][i_rest] - cut["v_mV"][i_rest])),
            "first_spike_ms": float(spikes[0]) if n else float("nan"),
            "first_spike_without_ms": float(spikes_cut[0]) if spikes_cut.size else float("nan"),
            "cai_max_mM": float(np.max(full["cai_mM"])) if "cai_mM" in full else float("nan"),
            "eca_range_mV": float(np.ptp(full["eca_mV"])) if "eca_mV" in full else float("nan"),
            "v_min_mV": float(np.min(full["v_mV"])),
            "v_max_mV": float(np.max(full["v_mV"])),
            "finite": bool(np.all(np.isfinite(full["v_mV"]))),
            "rate_hz": 1000.0 * n / (t1 - t0),
        })
    return rows


def spike_times_of_recipes(entries: list[dict[str, Any]], lib_path: str,
                           table_mechs: list[str] | None = None) -> list[np.ndarray]:
    """Run several (possibly modified) recipes in this process; return each one's spike times.

    Spikes are counted over the stimulus window of each recipe.
    """
    out = []
    for entry in entries:
        trace = simulate_recipe(entry, lib_path, table_mechs=table_mechs)
        stim = entry["stimulus"]
        t0 = stim["delay_ms"]
        out.append(spike_times(trace["t_ms"], trace["v_mV"], t0, t0 + stim["duration_ms"]))
    return out


def call_functions(lib_path: str, calls: list[tuple[str, tuple[float, ...]]]) -> list[float]:
    """Evaluate mechanism FUNCTIONs (hoc names such as ``vtrap_NaTa_t``) at given arguments."""
    h = _h(lib_path)
    return [float(getattr(h, name)(*args)) for name, args in calls]


def max_abs_dv_between(entry_a: dict[str, Any], entry_b: dict[str, Any], lib_path: str,
                       table_mechs: list[str] | None = None,
                       t_until_ms: float | None = None) -> float:
    """Largest |V_a - V_b| (mV) between two recipes run in this process (same dt, tstop),
    over ``t <= t_until_ms`` if given."""
    a = simulate_recipe(entry_a, lib_path, table_mechs=table_mechs)
    b = simulate_recipe(entry_b, lib_path, table_mechs=table_mechs)
    keep = a["t_ms"] <= (np.inf if t_until_ms is None else t_until_ms)
    return float(np.max(np.abs(a["v_mV"][keep] - b["v_mV"][keep])))
