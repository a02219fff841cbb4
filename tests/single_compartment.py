"""Test helper: the same single compartment in NEURON (in a fresh process) and in JAX.

``compile_mods`` builds a mechanism library once per set of files (cached by content hash
in the temp dir); ``neuron_soma_run`` runs in a child process via ``run_isolated`` and
returns NEURON's voltage trace, the electrode current NEURON actually used in each step,
and ``describe_soma`` of that soma.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from mod_export.compile import find_nrnivmodl
from reducer.metrics import spike_times  # noqa: F401  (re-exported for the tests)
from tests.mod_corpus.recipe import build_recipe_soma


def compile_mods(mod_files: list[Path]) -> Path | None:
    """Compile ``mod_files`` with nrnivmodl into a cached temp dir; return libnrnmech path."""
    mod_files = sorted(Path(f).resolve() for f in mod_files)
    if not mod_files:
        return None
    digest = hashlib.sha256()
    for f in mod_files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    root = Path(tempfile.gettempdir()) / "reduce-cell-nmodl2jax" / digest.hexdigest()[:16]
    lib = root / "x86_64" / "libnrnmech.so"
    if lib.exists():
        return lib
    tmp = Path(tempfile.mkdtemp(prefix="build-", dir=root.parent if root.parent.exists()
                                else _mk(root.parent)))
    for f in mod_files:
        shutil.copy(f, tmp / f.name)
    proc = subprocess.run([find_nrnivmodl(), "."], cwd=tmp, capture_output=True, text=True)
    built = tmp / "x86_64" / "libnrnmech.so"
    if proc.returncode != 0 or not built.exists():
        raise RuntimeError(f"nrnivmodl failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    try:
        os.replace(tmp, root)
    except OSError:  # another process built it first
        shutil.rmtree(tmp, ignore_errors=True)
    return lib


def _mk(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def neuron_soma_run(lib: str | None, mod_files: list[str], mechanisms: dict[str, dict],
                    globals_: dict[str, float], ion_values: dict[str, float],
                    area_um2: float, cm: float, celsius: float, dt_ms: float,
                    v_init_mV: float, i_stim_nA: list[float], usetable: bool = False) -> dict:
    """One soma in NEURON under an IClamp playing ``i_stim_nA`` (value n used in step n)."""
    from neuron import h

    if lib:
        h.nrn_load_dll(str(lib))
    from reducer.nmodl2jax import describe_soma

    h.secondorder = 0
    h.celsius = celsius
    h.dt = dt_ms
    soma = h.Section(name="soma")
    soma.nseg = 1
    soma.L = soma.diam = math.sqrt(area_um2 / math.pi)
    soma.cm = cm
    for name, params in mechanisms.items():
        soma.insert(name)
        for p, val in params.items():
            for seg in soma:
                setattr(getattr(seg, name), p, val)
    for name, val in globals_.items():
        setattr(h, name, val)
    for var, val in ion_values.items():
        setattr(soma, var, val)
    for name in mechanisms:
        if hasattr(h, f"usetable_{name}"):
            setattr(h, f"usetable_{name}", 1.0 if usetable else 0.0)
    stim = h.IClamp(soma(0.5))
    stim.delay = 0
    stim.dur = 1e9
    n = len(i_stim_nA)
    amp = h.Vector(list(i_stim_nA) + [i_stim_nA[-1] if n else 0.0])
    amp.play(stim._ref_amp, dt_ms)
    v = h.Vector().record(soma(0.5)._ref_v)
    i_rec = h.Vector().record(stim._ref_i)
    desc = describe_soma([soma], [Path(f) for f in mod_files])
    h.finitialize(v_init_mV)
    for _ in range(n):
        h.fadvance()
    return {"v": np.array(v), "i_stim": np.array(i_rec)[1:], "desc": desc}


def neuron_recipes_run(lib: str | None, mod_files: list[str], entries: list[dict],
                       usetable: bool | None = False) -> list[dict]:
    """Run corpus-style recipes (tests/mod_corpus/recipe.py contract) one after another in
    this process; return each one's NEURON trace, the electrode current of every step and
    ``describe_soma`` of the soma. ``usetable`` sets every ``usetable_<suffix>``; None
    keeps NEURON's default (tables on) except for the recipe's ``usetable_off`` list."""
    from neuron import h

    if lib:
        h.nrn_load_dll(str(lib))
    from reducer.nmodl2jax import describe_soma

    out = []
    for entry in entries:
        sim = entry["sim"]
        soma, seg, stim = build_recipe_soma(h, entry)
        for mech in entry["insert"]:
            if hasattr(h, f"usetable_{mech}"):
                on = mech not in entry.get("usetable_off", []) if usetable is None \
                    else usetable
                setattr(h, f"usetable_{mech}", 1.0 if on else 0.0)
        v_vec = h.Vector().record(seg._ref_v)
        i_vec = h.Vector().record(stim._ref_i)
        desc = describe_soma([soma], [Path(f) for f in mod_files])
        h.finitialize(sim["v_init_mV"])
        for _ in range(int(round(sim["tstop_ms"] / sim["dt_ms"]))):
            h.fadvance()
        out.append({"name": entry["name"], "v": np.array(v_vec),
                    "i_stim": np.array(i_vec)[1:], "desc": desc})
        del v_vec, i_vec, stim, seg, soma
    return out


def suffix_of(mod_file: Path) -> str:
    """The SUFFIX of a density-mechanism .mod file."""
    from reducer.nmodl2jax import suffix_map

    (name,) = suffix_map([Path(mod_file)]).keys()
    return name


def diverging_soma_run(lib: str, amp_nA: float) -> dict:
    """A soma with ``exp_guard`` (tests/mod_diverge) under a step of ``amp_nA``, run through
    :func:`reducer.validate.heldout.run_or_diverge` twice: the second run shows that NEURON
    still works after a stop."""
    from neuron import h

    from reducer.validate.heldout import run_or_diverge

    h.nrn_load_dll(str(lib))
    h.load_file("stdrun.hoc")
    soma = h.Section(name="soma")
    soma.L = soma.diam = 10.0
    soma.insert("pas")
    soma.insert("exp_guard")
    stim = h.IClamp(soma(0.5))
    stim.delay, stim.dur, stim.amp = 1.0, 1e9, amp_nA
    v = h.Vector().record(soma(0.5)._ref_v)
    h.dt = 0.025
    first = run_or_diverge(h, -65.0, 50.0)
    n_first = len(v)
    stim.amp = 0.0
    second = run_or_diverge(h, -65.0, 50.0)
    return {"first": first, "n_first": n_first, "second": second, "n_second": len(v)}
