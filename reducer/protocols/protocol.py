"""A stimulus protocol (:class:`Protocol`, plain JSON-able data rendering to a
per-step current) and a train / validation / test split of them (:class:`ProtocolSet`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reducer.protocols.synapses import SynapticDrive

KINDS = ("step", "ramp", "ou_noise", "chirp", "multistep")
OU_SAMPLE_MS = 0.025  # the noise grid: NEURON's default dt, so a default run steps on it


def ou_path(n: int, sample_ms: float, tau_ms: float, sigma_nA: float, seed: int) -> np.ndarray:
    """Zero-mean Ornstein-Uhlenbeck path, ``n`` samples ``sample_ms`` apart, starting at 0.

    Exact discretisation: x[j] = x[j-1] e^(-dt/tau) + sigma sqrt(1 - e^(-2 dt/tau)) xi[j],
    with xi standard normal from ``numpy.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    decay = np.exp(-sample_ms / tau_ms)
    kick = sigma_nA * np.sqrt(1.0 - decay**2)
    xi = rng.standard_normal(n)
    x = np.empty(n)
    acc = 0.0
    for j in range(n):
        acc = acc * decay + kick * xi[j]
        x[j] = acc
    return x


@dataclass(frozen=True)
class Protocol:
    """One current-clamp stimulus.

    Attributes:
        name: unique name within a run (used for file names).
        kind: one of ``KINDS``.
        duration_ms: total simulated time.
        params: kind-specific parameters (all in ms / nA / Hz), see :meth:`waveform_nA`; any
            kind may add ``holds``, see :meth:`hold_waveforms`.
        note: why this protocol is in its set (e.g. "out of distribution: longer stimulus").
    """

    name: str
    kind: str
    duration_ms: float
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(
                f"protocol {self.name!r}: unknown kind {self.kind!r}; use one of {KINDS}")
        for h in self.params.get("holds") or ():
            if len(h) != 3 or not (h[0] >= 0 and h[1] > 0 and h[0] + h[1] <= self.duration_ms):
                raise ValueError(f"protocol {self.name!r}: a hold is [start_ms, dur_ms, level_mV] "
                                 f"inside the protocol's {self.duration_ms} ms, got {h!r}")
        if not float(self.params.get("sample_ms", OU_SAMPLE_MS)) > 0:
            raise ValueError(f"protocol {self.name!r}: sample_ms (the noise grid) must be > 0, "
                             f"got {self.params['sample_ms']!r}")
        syn = self.params.get("synapses")
        if syn is not None:
            drive = self.synaptic_drive(-70.0)[0]  # checks the fields
            if drive.delay_ms + drive.dur_ms > self.duration_ms:
                raise ValueError(f"protocol {self.name!r}: its synaptic input ends at "
                                 f"{drive.delay_ms + drive.dur_ms} ms, after the protocol")

    def n_steps(self, dt_ms: float) -> int:
        return int(round(self.duration_ms / dt_ms))

    def waveform_nA(self, dt_ms: float) -> np.ndarray:
        """Injected current for each integration step (length ``n_steps``), value at step start.

        Parameters by kind:
            step: ``delay_ms, dur_ms, amp_nA``
            multistep: ``delay_ms, dur_ms, amps_nA`` (list), ``gap_ms``
            ramp: ``delay_ms, dur_ms, amp_start_nA, amp_end_nA``
            ou_noise: ``delay_ms, dur_ms, mean_nA, sigma_nA, tau_ms, seed``, optional
                ``sample_ms`` (default :data:`OU_SAMPLE_MS`): an Ornstein-Uhlenbeck path drawn
                on a grid of that interval (exact discretisation) and held between grid
                points, so the stimulus does not depend on ``dt_ms``
            chirp: ``delay_ms, dur_ms, offset_nA, amp_nA, f0_hz, f1_hz`` (linear sweep)
        """
        n = self.n_steps(dt_ms)
        t = np.arange(n) * dt_ms
        p = self.params
        i = np.zeros(n)
        if self.kind == "multistep":
            start = p["delay_ms"]
            for a in p["amps_nA"]:
                on = (t >= start) & (t < start + p["dur_ms"])
                i[on] = a
                start += p["dur_ms"] + p["gap_ms"]
            return i
        on = (t >= p["delay_ms"]) & (t < p["delay_ms"] + p["dur_ms"])
        if self.kind == "step":
            i[on] = p["amp_nA"]
        elif self.kind == "ramp":
            frac = (t[on] - p["delay_ms"]) / p["dur_ms"]
            i[on] = p["amp_start_nA"] + frac * (p["amp_end_nA"] - p["amp_start_nA"])
        elif self.kind == "ou_noise":
            # One sample path per seed whatever dt is: drawn on its own grid and held between
            # grid points, so a run at another dt sees the same stimulus (at dt = the grid
            # interval, one sample per step, exactly as before the grid existed).
            grid_ms = float(p.get("sample_ms", OU_SAMPLE_MS))
            path = ou_path(int(round(p["dur_ms"] / grid_ms)), grid_ms, p["tau_ms"],
                           p["sigma_nA"], int(p["seed"]))
            j = np.floor((t[on] - p["delay_ms"]) / grid_ms + 1e-6).astype(int)
            i[on] = p["mean_nA"] + path[np.clip(j, 0, path.size - 1)]
        elif self.kind == "chirp":
            tt = (t[on] - p["delay_ms"]) * 1e-3  # s
            dur_s = p["dur_ms"] * 1e-3
            phase = 2 * np.pi * (p["f0_hz"] * tt + 0.5 * (p["f1_hz"] - p["f0_hz"]) / dur_s * tt**2)
            i[on] = p["offset_nA"] + p["amp_nA"] * np.sin(phase)
        return i

    def hold_waveforms(self, dt_ms: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Somatic voltage-clamp holds per integration step: (on, level_mV), or None.

        ``params["holds"]`` lists ``[start_ms, dur_ms, level_mV]``: from ``start_ms`` for
        ``dur_ms`` the soma is clamped at ``level_mV`` (on top of the injected current, which
        the clamp overrides); between holds the cell runs free. Holds belong in training only:
        validation and the reduced cells simulate the current alone.
        """
        holds = self.params.get("holds")
        if not holds:
            return None
        n = self.n_steps(dt_ms)
        t = np.arange(n) * dt_ms
        on = np.zeros(n, dtype=bool)
        level = np.zeros(n)
        for start, dur, v in holds:
            k = (t >= start) & (t < start + dur)
            on |= k
            level[k] = v
        return on, level

    def synaptic_drive(self, v_rest_mV: float):
        """(SynapticDrive, weights_uS) of ``params["synapses"]`` for a cell resting at
        ``v_rest_mV``, or None.

        ``params["synapses"]`` holds the fields of
        :class:`~reducer.protocols.synapses.SynapticDrive`
        and ``rheobase_nA``: the drive is set, as in the synaptic benchmark, by the mean
        synaptic current at rest in units of that rheobase. The full cell's synaptic current
        is recorded as injected current (``i_stim_nA``), so for training such a protocol is a
        current clamp with a current the full cell shaped: spikes under a shunting
        conductance, which injected current alone never gives.
        """
        syn = self.params.get("synapses")
        if syn is None:
            return None
        fields = {k: v for k, v in syn.items() if k != "rheobase_nA"}
        try:
            drive = SynapticDrive(**fields)
            rheobase_nA = float(syn["rheobase_nA"])
        except (TypeError, KeyError, ValueError) as exc:
            raise ValueError(f"protocol {self.name!r}: bad synapses {syn!r} ({exc})") from exc
        return drive, drive.weights_uS(rheobase_nA, v_rest_mV)

    @property
    def input_class(self) -> str:
        """"fluctuating" (OU noise, chirp, synaptic drive: inputs under which a cell's spike
        times are reproducible, so the held-out set judges them by Γ) or "step" (steps, ramps,
        multisteps: judged by rate, latency, ISI statistics and subthreshold voltage)."""
        if self.kind in ("ou_noise", "chirp") or self.params.get("synapses"):
            return "fluctuating"
        return "step"

    def stimulus_window_ms(self) -> tuple[float, float] | None:
        """(start, end) of the stimulus in ms, where spike metrics are counted; None for a
        multistep (several windows) or a protocol without ``delay_ms`` / ``dur_ms``."""
        if "delay_ms" in self.params and "dur_ms" in self.params and self.kind != "multistep":
            d = float(self.params["delay_ms"])
            return (d, min(d + float(self.params["dur_ms"]), self.duration_ms))
        return None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Protocol:
        return cls(**d)

    def digest(self) -> str:
        """Content hash (name excluded) so cached simulations are reused only for equal stimuli."""
        body = json.dumps({k: v for k, v in self.to_dict().items() if k != "name"}, sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ProtocolSet:
    """Train / validation / test protocols, plus the f-I steps (a test regime of its own)."""

    train: tuple[Protocol, ...]
    validation: tuple[Protocol, ...]
    test: tuple[Protocol, ...]
    fi_steps: tuple[Protocol, ...] = ()
    # Somatic voltage-clamp levels held to steady state: the full cell's DC axial I-V.
    dc_holds: tuple[Protocol, ...] = ()

    def __post_init__(self):
        for split in ("validation", "test", "fi_steps"):
            for p in getattr(self, split):
                for key, what in (("holds", "holds the soma"), ("synapses", "has synapses")):
                    if p.params.get(key):
                        raise ValueError(f"protocol {p.name!r} {what}: that belongs in "
                                         f"training, the reduced cells in {split} get current "
                                         "only")

    def splits(self) -> dict[str, tuple[Protocol, ...]]:
        return {
            "train": self.train,
            "validation": self.validation,
            "test": self.test,
            "fi": self.fi_steps,
            "dc": self.dc_holds,
        }

    def to_dict(self) -> dict[str, Any]:
        return {k: [p.to_dict() for p in v] for k, v in self.splits().items()}
