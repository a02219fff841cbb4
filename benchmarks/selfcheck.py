"""What the scripts that run the full cell against itself share.

``full_cell_timestep.py`` (a smaller time step) and ``full_cell_sensitivity.py`` (a constant
current added to the stimulus) both rerun the run's held-out protocols with the full cell and
compare the spikes with those of the stored held-out recordings (``data/targets.json``).
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reducer import metrics  # noqa: E402
from reducer.pipeline import require_run_files  # noqa: E402
from reducer.protocols import Protocol  # noqa: E402


def load_recording(path: Path) -> tuple[Protocol, np.ndarray, np.ndarray]:
    """A stored simulation's protocol, its somatic spike times (ms) and the current it was
    driven with per step (``i_stim_nA[k]`` is the current of step k-1 -> k)."""
    with np.load(path) as f:
        meta = json.loads(str(f["meta_json"]))
        return (Protocol.from_dict(meta["protocol"]),
                metrics.spike_times(f["t_ms"], f["v_soma_mV"]), f["i_stim_nA"][1:])


def same_stimulus(stored_nA: np.ndarray, p: Protocol, dt_ms: float) -> bool:
    """Whether a recording driven by ``stored_nA`` was driven by what ``p`` renders now."""
    now = p.waveform_nA(dt_ms)
    return stored_nA.shape == now.shape and np.allclose(stored_nA, now, rtol=0.0, atol=1e-12)


def compare(p: Protocol, ref: np.ndarray, other: np.ndarray) -> dict[str, Any]:
    """The held-out spike metrics of ``other`` against ``ref`` in ``p``'s stimulus window,
    and the largest shift between the i-th spikes there."""
    window = p.stimulus_window_ms() or (0.0, p.duration_ms)
    row = metrics.compare_spike_trains(ref, other, window)
    for k in ("gamma_4ms", "gamma_2ms"):  # NaN: undefined (no spikes, or 2 rate delta >= 1)
        row[k] = None if np.isnan(row[k]) else row[k]
    inside = [s[(s >= window[0]) & (s <= window[1])] for s in (ref, other)]
    n = min(map(len, inside))
    row["max_shift_ms"] = float(np.max(np.abs(inside[1][:n] - inside[0][:n]))) if n else None
    return row


def heldout_references(run: Path) -> dict[str, Any]:
    """The run's cell, time step and held-out recordings, for rerunning the full cell.

    Raises:
        ReduceCellError: ``run`` has no finished targets stage.

    Returns:
        ``spec``, ``dt_ms``, ``settle_ms``, ``kept`` ([(protocol, spike times)] of the
        recordings whose stored stimulus is what the protocol renders now) and ``skipped``
        (the names of the others: noise recorded by an older version at a dt off the grid).
    """
    require_run_files(run, ("data/targets.json", "cell_spec.pkl"), "targets")
    targets = json.loads((run / "data" / "targets.json").read_text())
    dt_ms = float(targets["meta"]["dt_ms"])
    kept, skipped = [], []
    for f in targets["splits"]["test"]:
        q, ref, stored_nA = load_recording(Path(f))
        if same_stimulus(stored_nA, q, dt_ms):
            kept.append((q, ref))
        else:
            skipped.append(q.name)
    return {"spec": pickle.loads((run / "cell_spec.pkl").read_bytes()), "dt_ms": dt_ms,
            "settle_ms": float(targets["meta"]["settle_ms"]), "kept": kept, "skipped": skipped}


def skipped_message(skipped: list[str]) -> str:
    """The line the scripts print for held-out recordings they leave out ("" for none)."""
    if not skipped:
        return ""
    return (f"\n(left out, their stored stimulus is not what the protocol gives now: "
            f"{', '.join(skipped)}; run reduce-cell --force to record them again)")
