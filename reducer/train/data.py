"""Target datasets as padded batches, and the check that they hold finite samples."""

from __future__ import annotations

from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np

from reducer.errors import TrainingError
from reducer.protocols import Protocol
from reducer.targets import Dataset


@dataclass
class Padded:
    """Protocols padded to a common length (pad = last sample), with a validity mask."""

    v: jnp.ndarray  # (P, N+1)
    i_axial: jnp.ndarray  # (P, N+1)
    i_stim: jnp.ndarray  # (P, N+1): i_stim[k] used during step k-1 -> k
    mask: jnp.ndarray  # (P, N+1) bool
    lengths: np.ndarray  # (P,) samples incl. index 0
    names: list[str]
    t_ms: np.ndarray  # (N+1,)
    # Per protocol, where spike metrics are counted (the stimulus), as in the report.
    windows: list[tuple[float, float] | None] = field(default_factory=list)
    # Per protocol, its stimulus kind ("step", "ou_noise", ...; "" where unknown).
    kinds: list[str] = field(default_factory=list)


def pad_dataset(ds: Dataset) -> Padded:
    n = max(len(tr["v_soma_mV"]) for tr in ds.traces)

    def pad(a, fill_last=True):
        out = np.empty(n)
        out[: len(a)] = a
        out[len(a):] = a[-1] if fill_last else 0.0
        return out

    v = np.stack([pad(tr["v_soma_mV"]) for tr in ds.traces])
    ia = np.stack([pad(tr["i_axial_nA"]) for tr in ds.traces])
    ist = np.stack([pad(tr["i_stim_nA"], fill_last=False) for tr in ds.traces])
    lengths = np.array([len(tr["v_soma_mV"]) for tr in ds.traces])
    mask = np.arange(n)[None, :] < lengths[:, None]
    dt = ds.meta[0]["dt_ms"]
    windows = [Protocol.from_dict(m["protocol"]).stimulus_window_ms() if "protocol" in m else None
               for m in ds.meta]
    kinds = [str(m.get("protocol", {}).get("kind", "")) for m in ds.meta]
    return Padded(jnp.asarray(v), jnp.asarray(ia), jnp.asarray(ist), jnp.asarray(mask), lengths,
                  list(ds.names), np.arange(n) * dt, windows, kinds)


def check_dataset(ds: Dataset, split: str) -> None:
    """Raise TrainingError naming the protocol and time of the first non-finite sample."""
    if not ds.traces:
        raise TrainingError(f"the {split} set holds no protocols: generate the targets first")
    for name, tr in zip(ds.names, ds.traces, strict=True):
        for key in ("v_soma_mV", "i_axial_nA", "i_stim_nA"):
            bad = np.flatnonzero(~np.isfinite(np.asarray(tr[key])))
            if bad.size:
                t = float(np.asarray(tr["t_ms"])[bad[0]])
                raise TrainingError(
                    f"{split} protocol '{name}': {key} is not finite at t = {t:g} ms "
                    f"({bad.size} samples); the full-cell simulation diverged or the file is "
                    "damaged: delete it and run the targets stage again")
