"""Save / load a trained axial-current model: arrays in ``.npz``, hyper-parameters in JSON.

A saved model is a folder holding ``axial_params.npz`` (every array field of
:class:`GatedAxialCurrent`) and ``axial_model.json`` (its static fields, shapes and any
provenance the caller adds: cell hash, seed, training stage, metrics ...). Loading needs no
retraining and no JAX tracing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

from reducer.hybrid.axial import GatedAxialCurrent

PARAMS_FILE = "axial_params.npz"
META_FILE = "axial_model.json"
_STATIC = ("v_offset_mV", "v_scale_mV", "tau_min_ms")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def model_arrays(model: GatedAxialCurrent) -> dict[str, np.ndarray]:
    """All array fields as float64 numpy arrays."""
    return {
        f.name: np.asarray(getattr(model, f.name), dtype=np.float64)
        for f in dataclasses.fields(model)
        if f.name not in _STATIC
    }


def save_model(folder: str | Path, model: GatedAxialCurrent, meta: dict[str, Any] | None = None):
    """Write the model to ``folder`` atomically (arrays first, then the JSON that names them)."""
    folder = Path(folder)
    import io

    buf = io.BytesIO()
    np.savez(buf, **model_arrays(model))
    _atomic_write_bytes(folder / PARAMS_FILE, buf.getvalue())
    info = {
        "class": "GatedAxialCurrent",
        "n_states": model.n_states,
        "n_hidden": model.n_hidden,
        **{k: getattr(model, k) for k in _STATIC},
        "meta": meta or {},
    }
    _atomic_write_bytes(folder / META_FILE, json.dumps(info, indent=2).encode())


def load_model(folder: str | Path) -> tuple[GatedAxialCurrent, dict[str, Any]]:
    """Load a model saved by :func:`save_model`; returns (model, meta)."""
    folder = Path(folder)
    info = json.loads((folder / META_FILE).read_text())
    with np.load(folder / PARAMS_FILE) as arrays:
        fields = {k: jnp.asarray(arrays[k]) for k in arrays.files}
    model = GatedAxialCurrent(**fields, **{k: float(info[k]) for k in _STATIC})
    return model, info.get("meta", {})
