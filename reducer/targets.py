"""Training targets: NEURON runs the full cell and records soma V, the exact axial current into
the soma and the injected current.

Axial current (DESIGN.md): the total current flowing from every non-soma section into the set
of soma sections, in nA, positive = depolarising. With ``CVode.use_fast_imem(1)`` it is exactly
``sum(i_membrane_ over soma segments) - I_electrode`` (``i_membrane_`` excludes electrode
current); :func:`axial_current_from_ri` gives the same from the child voltages and ``ri()``
(the test checks the two agree).

Every protocol starts from one settled state (the cell run for ``settle_ms`` without input,
then ``SaveState``), so no protocol contains the initial relaxation.

Files: one ``<split>/<protocol>.npz`` per protocol with ``t_ms, v_soma_mV, i_axial_nA,
i_stim_nA`` (length n+1: index 0 is the settled state, index k the values after step k, and
``i_stim_nA[k]`` the electrode current used during step k-1 -> k) and ``meta_json``
(protocol, dt, celsius, v_init, settle time, cell hash, NEURON version). A file whose
metadata matches the request is reused, so interrupted runs resume.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reducer.progress import Progress, log
from reducer.protocols import Protocol, ProtocolSet
from reducer.protocols.synapses import SomaSynapses

SPIKE_THRESHOLD_mV = -20.0


# --------------------------------------------------------------------------- NEURON side


class FullCellRig:
    """The full cell in this NEURON process with a soma IClamp and the recordings we need."""

    def __init__(self, spec, dt_ms: float | None = None, settle_ms: float = 500.0):
        from reducer.cell import instantiate_cell

        self.cell = instantiate_cell(spec)
        self.spec = spec
        driven = [s for s in self.cell.user_stimuli if s.get("artificial_source")
                  and s["action"] != "switched off"]
        if driven:
            from reducer.errors import ReduceCellError

            raise ReduceCellError(
                f"cell {spec.name!r}: keep_stimuli keeps {driven[0]['name']} from "
                f"{driven[0]['source']} (an artificial cell driving {driven[0]['location']}); "
                "the full-cell simulations restart from a saved rest state, where its events "
                "would arrive out of order: run without --keep-stimuli, or add the input as "
                "a protocol (protocols with 'synapses')")
        h = self.h = self.cell.h
        h.load_file("stdrun.hoc")
        self.dt_ms = float(dt_ms or spec.dt_ms)
        h.dt = self.dt_ms
        h.steps_per_ms = 1.0 / self.dt_ms
        h.secondorder = 0
        h.cvode_active(0)
        h.cvode.use_fast_imem(1)
        self.settle_ms = float(settle_ms)
        soma_seg = self.cell.soma_seg
        self.stim = h.IClamp(soma_seg)
        self.stim.delay = 0.0
        self.stim.dur = 1e12
        self.stim.amp = 0.0
        # The holds' voltage clamp: off (no current, no conductance) unless a protocol holds.
        self.clamp = h.SEClamp(soma_seg)
        self.clamp.dur1 = 0.0
        self.soma_segs = [seg for sec in self.cell.soma for seg in sec]
        self._v = h.Vector().record(soma_seg._ref_v)
        self._i_stim = h.Vector().record(self.stim._ref_i)
        self._i_mem = [h.Vector().record(seg._ref_i_membrane_) for seg in self.soma_segs]
        # Somatic synapses for protocols with ``synapses``: silent (they add exactly nothing)
        # unless a run arms them, and present from the start so the saved state fits every run.
        self.synapses = SomaSynapses(h, soma_seg)
        self.settle()

    def settle(self) -> None:
        """Run to rest and save that state, which every :meth:`run` starts from.

        Call it again after adding point processes to the cell: a SaveState only restores
        into the structure it was saved from.
        """
        h = self.h
        h.finitialize(self.spec.v_init_mV)
        h.continuerun(self.settle_ms)
        self.v_rest_mV = float(self.cell.soma_seg.v)
        self.i_axial_rest_nA = float(
            sum(seg.i_membrane_ for seg in self.soma_segs) - self.stim.i
        )
        self.state = h.SaveState()
        self.state.save()

    def run(self, waveform_nA: np.ndarray, progress: Progress | None = None,
            progress_offset: float = 0.0, stop_at_spike: bool = False,
            holds: tuple[np.ndarray, np.ndarray] | None = None,
            synapses: tuple[Any, tuple[float, float]] | None = None) -> dict[str, np.ndarray]:
        """Simulate one stimulus (current per step) from the settled state; ``holds`` (from
        :meth:`Protocol.hold_waveforms`) clamps the soma where ``on``; ``synapses`` (a
        :class:`~reducer.protocols.synapses.SynapticDrive` and its weights in µS) drives the soma's
        two ExpSyn. ``i_stim_nA`` is all the current injected at the soma, the clamp's and
        the synapses' included, so the balance stays exact and replaying ``i_stim_nA`` as a
        current clamp gives the same trace."""
        h = self.h
        n = len(waveform_nA)
        vec = h.Vector(np.asarray(waveform_nA, dtype=float))
        vec.play(self.stim._ref_amp, self.dt_ms)
        clamp_vecs = []
        if holds is not None:
            on, level = holds
            # Between holds the series resistance is 1e9 MOhm: the clamp passes < 1e-7 nA.
            clamp_vecs = [h.Vector(np.where(on, 1e-3, 1e9)), h.Vector(np.asarray(level, float))]
            clamp_vecs[0].play(self.clamp._ref_rs, self.dt_ms)
            clamp_vecs[1].play(self.clamp._ref_amp1, self.dt_ms)
            self.clamp.dur1 = 1e9
        if synapses is not None:
            self.synapses.arm(*synapses)
        h.finitialize(self.spec.v_init_mV)
        # restore(1) keeps the event queue finitialize just built, so the play events fire
        # (and the synapses' events).
        self.state.restore(1)
        if synapses is not None:
            self.synapses.set_parameters(*synapses)  # restore reset them to the saved ones
        h.t = 0.0
        h.frecord_init()
        chunk = max(1, int(round(20.0 / self.dt_ms)))
        done = 0
        while done < n:
            k = min(chunk, n - done)
            for _ in range(k):
                h.fadvance()
            done += k
            if progress is not None:
                progress.update(progress_offset + done * self.dt_ms)
            if stop_at_spike and self.cell.soma_seg.v > SPIKE_THRESHOLD_mV:
                break
        vec.play_remove()
        for cv in clamp_vecs:
            cv.play_remove()
        self.clamp.dur1 = 0.0
        self.synapses.disarm()
        v = np.array(self._v)
        i_stim = np.array(self._i_stim)
        if holds is not None:
            # The clamp's current from the new voltage, (level - v_new) / rs: what the
            # implicit step applied (the clamp is linear in v).
            rs = np.asarray(clamp_vecs[0])[: len(v) - 1]
            i_stim[1:] += (np.asarray(holds[1])[: len(v) - 1] - v[1:]) / rs
        i_mem = np.sum([np.array(x) for x in self._i_mem], axis=0)
        # i_membrane_ holds the synapses' current (they are membrane currents, electrodes are
        # not), so the axial current is taken before it joins the injected current.
        i_axial = i_mem - i_stim
        if synapses is not None:
            i_stim = i_stim + self.synapses.current_in_nA(v, self.dt_ms)
        v[0] = self.v_rest_mV
        i_stim[0] = 0.0
        i_axial[0] = self.i_axial_rest_nA
        m = len(v)
        return {
            "t_ms": np.arange(m) * self.dt_ms,
            "v_soma_mV": v,
            "i_axial_nA": i_axial,
            "i_stim_nA": i_stim,
        }

    def metadata(self) -> dict[str, Any]:
        import neuron

        return {
            "dt_ms": self.dt_ms,
            "celsius_degC": float(self.h.celsius),
            "v_init_mV": float(self.spec.v_init_mV),
            "settle_ms": self.settle_ms,
            "v_rest_mV": self.v_rest_mV,
            "i_axial_rest_nA": self.i_axial_rest_nA,
            "cell_hash": self.spec.content_hash(),
            "cell_name": self.spec.name,
            "neuron_version": neuron.__version__,
            "n_segments": int(self.cell.n_segments),
            "n_sections": len(self.cell.sections),
        }


def axial_current_from_ri(cell) -> list:
    """Per child of the soma: (v_child_first_seg, v_soma_attach, ri_MOhm) references.

    The current from one child into the soma is (v(child first seg) - v(soma at attachment))
    / ri(child first seg), in nA (mV / MOhm).
    """
    out = []
    for child, soma_sec, x in cell.soma_children:
        first = child(0.5 / child.nseg)
        out.append((first, soma_sec(x), first.ri()))
    return out


def _meta_matches(path: Path, meta: dict[str, Any]) -> bool:
    try:
        with np.load(path) as f:
            old = json.loads(str(f["meta_json"]))
    except Exception:
        return False
    # the waveform's own hash too: the same protocol renders differently across versions (OU
    # noise was drawn per dt step before it had its own grid)
    keys = ("protocol_digest", "stimulus_sha1", "cell_hash", "dt_ms", "settle_ms", "v_init_mV",
            "celsius_degC", "offset_nA")
    return all(old.get(k) == meta.get(k) for k in keys)


def save_npz_atomic(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp.npz")
    os.close(fd)
    np.savez(tmp, meta_json=np.array(json.dumps(meta)), **arrays)
    os.replace(tmp, path)


def simulate_protocols_worker(spec, jobs: list[dict[str, Any]], dt_ms: float, settle_ms: float,
                              label: str = "simulate", describe: bool = False) -> dict[str, Any]:
    """NEURON-process entry point: simulate ``jobs`` ({"protocol": dict, "path": str}).

    A job may add ``"offset_nA"``: a constant current added to the whole stimulus (the
    sensitivity runs, see :func:`generate_targets`). Writes one npz per job (skipping those
    already done for the same cell and stimulus) and returns the rig metadata, and the soma
    description when ``describe`` is set.
    """
    rig = FullCellRig(spec, dt_ms, settle_ms)
    base_meta = rig.metadata()
    protocols = [Protocol.from_dict(j["protocol"]) for j in jobs]
    total_ms = sum(p.duration_ms for p in protocols)
    prog = Progress(total_ms, label)
    offset = 0.0
    for job, p in zip(jobs, protocols, strict=True):
        path = Path(job["path"])
        offset_nA = float(job.get("offset_nA", 0.0))
        waveform = p.waveform_nA(rig.dt_ms) + offset_nA
        meta = {**base_meta, "protocol": p.to_dict(), "protocol_digest": p.digest(),
                "stimulus_sha1": hashlib.sha1(waveform.tobytes()).hexdigest()}
        if offset_nA:
            meta["offset_nA"] = offset_nA
        if not (path.exists() and _meta_matches(path, meta)):
            t0 = time.perf_counter()
            data = rig.run(waveform, prog, offset,
                           holds=p.hold_waveforms(rig.dt_ms),
                           synapses=p.synaptic_drive(rig.v_rest_mV))
            meta["wall_s"] = time.perf_counter() - t0
            save_npz_atomic(path, data, meta)
        offset += p.duration_ms
        prog.update(offset, p.name)
    prog.close()
    out: dict[str, Any] = {"meta": base_meta}
    if describe:
        from reducer.nmodl2jax import describe_soma

        out["soma"] = describe_soma(rig.cell.soma, list(spec.mod_files))
    return out


# A rheobase times the input resistance above this is no threshold of a resting cell: the
# bisection found an artefact (a standing current, a cell not at rest).
MAX_THRESHOLD_DEPOLARISATION_mV = 150.0


def find_rheobase_worker(spec, dt_ms: float, settle_ms: float, step_ms: float = 300.0,
                         iterations: int = 7) -> dict[str, float]:
    """Smallest step amplitude (nA, ``step_ms`` long) that makes the soma spike, by bisection.

    Also returns the input resistance from a -10 pA step, used to bracket the search.
    """
    rig = FullCellRig(spec, dt_ms, settle_ms)
    n = int(round(step_ms / rig.dt_ms))

    def spikes(amp: float) -> bool:
        d = rig.run(np.full(n, amp), stop_at_spike=True)
        return bool(np.max(d["v_soma_mV"]) > SPIKE_THRESHOLD_mV)

    from reducer.errors import ReduceCellError

    stimuli = rig.cell.user_stimuli
    quiet = rig.run(np.zeros(n))
    n_quiet = _count_spikes(quiet["v_soma_mV"])
    if n_quiet:
        raise ReduceCellError(
            f"cell {spec.name!r} fires without any injected current ({n_quiet} spikes in "
            f"{step_ms:g} ms after {settle_ms:g} ms at rest): reduce-cell needs a cell that "
            "rests. " + (_stimuli_hint(stimuli) or "Check for a bias current or a depolarised "
                         "leak reversal in the cell's files, or a --v-init far from rest"))
    probe = rig.run(np.full(int(round(100.0 / rig.dt_ms)), -0.01))
    r_in_MOhm = float((rig.v_rest_mV - probe["v_soma_mV"][-1]) / 0.01)
    if not np.isfinite(r_in_MOhm) or r_in_MOhm <= 0:
        raise ReduceCellError(
            f"cell {spec.name!r}: input resistance {r_in_MOhm:.3g} MOhm from a -10 pA step "
            f"(rest {rig.v_rest_mV:.2f} mV, {probe['v_soma_mV'][-1]:.2f} mV after 100 ms): a "
            "hyperpolarising current must hyperpolarise the soma; the cell is not at rest "
            "or something else drives it. " + (_stimuli_hint(stimuli) or "Check that the "
                                                  "cell settles (--settle-ms) and --v-init"))
    # A 25 mV depolarisation estimate brackets the threshold of most cortical cells.
    hi = max(25.0 / max(r_in_MOhm, 1e-3), 1e-3)
    lo = 0.0
    tries = 0
    while not spikes(hi):
        lo, hi = hi, hi * 2.0
        tries += 1
        if tries > 8:
            raise ReduceCellError(
                f"cell {spec.name!r} does not spike at the soma even for a {hi:.3g} nA step: "
                "reduce-cell needs a spiking cell (check the mechanisms and their densities)"
            )
    prog = Progress(iterations, "rheobase", min_interval_s=0.0)
    for k in range(iterations):
        mid = 0.5 * (lo + hi)
        if spikes(mid):
            hi = mid
        else:
            lo = mid
        prog.update(k + 1, f"{lo:.4f}-{hi:.4f} nA")
    prog.close()
    if lo == 0.0:
        raise ReduceCellError(
            f"cell {spec.name!r} spikes for every step down to {hi:.3g} nA, the bottom of the "
            "rheobase search: it fires with next to no current. " + (
                _stimuli_hint(stimuli) or "Check the cell's resting state"))
    depolarisation_mV = hi * r_in_MOhm
    if depolarisation_mV > MAX_THRESHOLD_DEPOLARISATION_mV:
        raise ReduceCellError(
            f"cell {spec.name!r}: rheobase {hi:.4g} nA with input resistance {r_in_MOhm:.4g} "
            f"MOhm, a depolarisation of {depolarisation_mV:.0f} mV (Ohm's law) before the first "
            f"spike; more than {MAX_THRESHOLD_DEPOLARISATION_mV:g} mV is no spike threshold of "
            "a cell at rest: the calibration is not to be trusted. " + (
                _stimuli_hint(stimuli) or "Check the soma's sodium channels and the resting "
                "state (--v-init, --settle-ms)"))
    from reducer.nmodl2jax import describe_soma

    # The soma's description lets the pipeline translate its mechanisms to JAX right after this
    # stage, so an untranslatable .mod file stops the run before the full-cell simulations.
    return {"rheobase_nA": hi, "input_resistance_MOhm": r_in_MOhm, "v_rest_mV": rig.v_rest_mV,
            "soma": describe_soma(rig.cell.soma, list(spec.mod_files)),
            "user_stimuli": list(stimuli)}


def _count_spikes(v_mV: np.ndarray) -> int:
    above = np.asarray(v_mV) > SPIKE_THRESHOLD_mV
    return int(np.count_nonzero(above[1:] & ~above[:-1]) + int(above[0]))


def _stimuli_hint(stimuli: list[dict[str, str]]) -> str:
    kept = [s for s in stimuli if s["action"] != "switched off"]
    if not kept:
        return ""
    names = ", ".join(f"{s['name']} at {s['location']}" for s in kept[:4])
    return (f"The cell's own stimuli were kept (keep_stimuli): {names}; without "
            "--keep-stimuli they are switched off")


# --------------------------------------------------------------------------- parent side


@dataclass
class Dataset:
    """The recorded traces of one split: lists of per-protocol dicts of arrays, plus metadata."""

    names: list[str]
    traces: list[dict[str, np.ndarray]]
    meta: list[dict[str, Any]]

    def free_running(self) -> tuple[Dataset, list[str]]:
        """The protocols during which nothing clamps the soma (no ``holds``), and the names of
        those left out. Replaying a hold's injected current, the clamp's, into another cell is
        not a current-clamp protocol."""
        keep = [k for k, m in enumerate(self.meta)
                if not m.get("protocol", {}).get("params", {}).get("holds")]
        held = [n for k, n in enumerate(self.names) if k not in keep]
        return Dataset([self.names[k] for k in keep], [self.traces[k] for k in keep],
                       [self.meta[k] for k in keep]), held

    @classmethod
    def load(cls, paths: list[Path]) -> Dataset:
        names, traces, metas = [], [], []
        for p in paths:
            with np.load(p) as f:
                meta = json.loads(str(f["meta_json"]))
                traces.append({k: np.asarray(f[k]) for k in f.files if k != "meta_json"})
            names.append(meta["protocol"]["name"])
            metas.append(meta)
        return cls(names, traces, metas)


def dc_iv(paths: Sequence[Path], average_ms: float | None = None) -> dict[str, list[float]]:
    """The full cell's steady-state axial current at each held level, from the "dc" split:
    the mean over the last ``average_ms`` (default ``protocols.DC_AVERAGE_MS``) of each hold.

    The mean, because above about -50 mV the clamped soma makes the dendrites fire, and their
    current oscillates instead of settling. ``v_mV`` is the soma's mean voltage there, which
    the clamp's series resistance leaves up to tens of µV off the level. Returns {"level_mV",
    "v_mV", "i_axial_nA"} (lists, sorted by level; empty for no paths).
    """
    from reducer.protocols import DC_AVERAGE_MS

    avg = DC_AVERAGE_MS if average_ms is None else float(average_ms)
    rows = []
    ds = Dataset.load([Path(p) for p in paths])
    for tr, meta in zip(ds.traces, ds.meta, strict=True):
        (start, dur, level), = meta["protocol"]["params"]["holds"]
        t = tr["t_ms"]
        late = (t > start + dur - avg) & (t <= start + dur)
        rows.append((float(level), float(np.mean(tr["v_soma_mV"][late])),
                     float(np.mean(tr["i_axial_nA"][late]))))
    rows.sort()
    return {k: [r[j] for r in rows] for j, k in enumerate(("level_mV", "v_mV", "i_axial_nA"))}


def sensitivity_path(out_dir: Path, protocol_name: str, offset_pA: float) -> Path:
    """Where the full cell's run of a held-out protocol with ``offset_pA`` added is stored."""
    sign = "plus" if offset_pA > 0 else "minus"
    return Path(out_dir) / "sensitivity" / f"{protocol_name}__{sign}{abs(offset_pA):g}pA.npz"


def sensitivity_protocols(protocols: ProtocolSet) -> list[Protocol]:
    """The protocols the full cell is run on again with small offsets: the held-out ones and
    the f-I steps."""
    return list(protocols.test) + list(protocols.fi_steps)


def sensitivity_jobs(protocols: Sequence[Protocol], sizes_pA: Sequence[float],
                     out_dir: Path) -> list[dict[str, Any]]:
    """Jobs for :func:`simulate_protocols_worker`: each protocol with +x and -x pA added to its
    stimulus for each size x, stored at :func:`sensitivity_path` under ``out_dir``."""
    return [{"protocol": p.to_dict(), "path": str(sensitivity_path(out_dir, p.name, off_pA)),
             "offset_nA": off_pA * 1e-3}
            for p in protocols for off_pA in (x * sign for x in sizes_pA for sign in (1.0, -1.0))]


def sensitivity_sizes_pA(sensitivity_pA: float | Sequence[float]) -> tuple[float, ...]:
    """The offset sizes (pA) of the sensitivity runs, sorted; 0 entries mean "off".

    Raises:
        ValueError: a negative or non-finite size.
    """
    vals = [sensitivity_pA] if isinstance(sensitivity_pA, (int, float)) else list(sensitivity_pA)
    for x in vals:
        if not (np.isfinite(x) and x >= 0):
            raise ValueError(f"sensitivity offsets must be finite and >= 0 pA, got {x!r}")
    return tuple(sorted({float(x) for x in vals if x > 0}))


def _sensitivity_entry(tok: str) -> tuple[float, str] | None:
    """``"1%"`` -> (1.0, "%"), ``"2pA"`` -> (2.0, "pA"); an empty entry or a 0 -> None."""
    tok = tok.strip()
    if not tok or tok == "0":
        return None
    unit = "%" if tok.endswith("%") else "pA" if tok.lower().endswith("pa") else None
    if unit is None:
        raise ValueError(f"sensitivity offset {tok!r} has no unit: write e.g. 1% (of the "
                         "rheobase) or 2pA")
    try:
        x = float(tok[:-len(unit)])
    except ValueError:
        raise ValueError(f"sensitivity offset {tok!r} is not a number with a unit") from None
    sensitivity_sizes_pA(x)  # the same range check
    return (x, unit) if x > 0 else None


def parse_sensitivity(text: str) -> tuple[str, ...]:
    """``"0.3%,1%"`` or ``"1pA,3pA"`` -> its checked, normalised entries (``"0"`` -> off).

    Each entry is a percentage of the cell's rheobase (``1%``) or a current in pA (``2pA``):
    the same relative offset probes a small and a large cell alike.

    Raises:
        ValueError: an entry without a unit, or a negative / non-finite value.
    """
    entries = (_sensitivity_entry(t) for t in text.split(","))
    return tuple(f"{x:g}{unit}" for x, unit in filter(None, entries))


def sensitivity_offsets_pA(entries: Sequence[str], rheobase_nA: float) -> tuple[float, ...]:
    """The sizes in pA (3 significant digits, sorted) of :func:`parse_sensitivity` entries."""
    vals = []
    for x, unit in filter(None, map(_sensitivity_entry, entries)):
        pA = x * 1e-2 * rheobase_nA * 1e3 if unit == "%" else x
        vals.append(float(f"{pA:.3g}"))
    return sensitivity_sizes_pA(vals)


def generate_targets(spec, protocols: ProtocolSet, out_dir: Path, dt_ms: float | None = None,
                     settle_ms: float = 500.0, n_workers: int = 2,
                     sensitivity_pA: float | Sequence[float] = ()) -> dict[str, Any]:
    """Simulate every protocol of every split with the full cell, in ``n_workers`` processes.

    For each size x in ``sensitivity_pA`` (one number or several, each > 0) every held-out
    (test) protocol and every f-I step is also run with a constant ±x pA added to its stimulus
    (split "sensitivity"): how far the full cell's own spike times move for a tiny change of input
    tells which held-out Γ values are attainable (near threshold, 1 pA can move a spike by
    more than Δ; on a long step at high rate, 2 pA shift the last spikes by half a period).

    Returns {"splits": {split: [npz paths]}, "meta": rig metadata, "soma": soma description}.
    """
    out_dir = Path(out_dir)
    dt_ms = float(dt_ms or spec.dt_ms)
    jobs = []
    splits: dict[str, list[Path]] = {}
    for split, plist in protocols.splits().items():
        splits[split] = []
        for p in plist:
            path = out_dir / split / f"{p.name}.npz"
            splits[split].append(path)
            jobs.append({"protocol": p.to_dict(), "path": str(path)})
    sizes_pA = sensitivity_sizes_pA(sensitivity_pA)
    if sizes_pA:
        more = sensitivity_jobs(sensitivity_protocols(protocols), sizes_pA, out_dir)
        splits["sensitivity"] = [Path(j["path"]) for j in more]
        jobs += more
    results = simulate_jobs(spec, jobs, dt_ms, settle_ms, n_workers, describe=True)
    return {"splits": splits, "meta": results[0]["meta"], "soma": results[0]["soma"]}


def simulate_jobs(spec, jobs: list[dict[str, Any]], dt_ms: float, settle_ms: float,
                  n_workers: int = 2, describe: bool = False) -> list[dict[str, Any]]:
    """Run :func:`simulate_protocols_worker` jobs in ``n_workers`` NEURON processes.

    The longest protocols go first, greedily balanced over the workers. Returns each worker's
    result (the first one holds the soma description when ``describe`` is set).
    """
    from reducer.isolated import run_isolated

    jobs = sorted(jobs, key=lambda j: -j["protocol"]["duration_ms"])
    n_workers = max(1, min(n_workers, len(jobs)))
    buckets: list[list[dict[str, Any]]] = [[] for _ in range(n_workers)]
    loads = [0.0] * n_workers
    for j in jobs:
        k = int(np.argmin(loads))
        buckets[k].append(j)
        loads[k] += j["protocol"]["duration_ms"]
    total_ms = sum(loads)
    log(f"simulating the full cell: {len(jobs)} protocols, {total_ms / 1e3:.1f} s of "
        f"stimulus in {n_workers} NEURON processes")
    results: list[Any] = [None] * n_workers
    errors: list[BaseException | None] = [None] * n_workers

    def work(k: int) -> None:
        try:
            results[k] = run_isolated(
                "reducer.targets:simulate_protocols_worker", spec=spec, jobs=buckets[k],
                dt_ms=dt_ms, settle_ms=settle_ms, label=f"full cell {k + 1}/{n_workers}",
                describe=describe and k == 0)
        except BaseException as exc:  # re-raised in the caller's thread below
            errors[k] = exc

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        if e is not None:
            raise e
    return results
