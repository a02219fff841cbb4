"""Somatic synapses as a stimulus: a Poisson excitatory and inhibitory drive
(:class:`SynapticDrive`, plain data) and the two ExpSyn that play it into a cell
(:class:`SomaSynapses`). Used by training protocols (``+synaptic`` sets) and by the
synaptic check (:mod:`reducer.validate.synaptic`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SynapticDrive:
    """Poisson excitation and inhibition onto the soma, as two ExpSyn.

    Attributes:
        drive: mean synaptic current at the resting potential, in units of the rheobase.
        exc_rate_hz, inh_rate_hz: total event rates (all excitatory / inhibitory synapses).
        tau_exc_ms, tau_inh_ms: ExpSyn decay time constants.
        e_exc_mV, e_inh_mV: reversal potentials.
        inh_ratio: mean inhibitory conductance / mean excitatory conductance.
        delay_ms: input starts here (the cells sit at rest before).
        dur_ms: input lasts this long; spike metrics use ``[delay_ms, delay_ms + dur_ms]``.
        tail_ms: simulated after the input ends.
        seed: seed of the event times.
    """

    drive: float
    exc_rate_hz: float = 1000.0
    inh_rate_hz: float = 400.0
    tau_exc_ms: float = 2.0
    tau_inh_ms: float = 6.0
    e_exc_mV: float = 0.0
    e_inh_mV: float = -75.0
    inh_ratio: float = 1.0
    delay_ms: float = 200.0
    dur_ms: float = 2000.0
    tail_ms: float = 50.0
    seed: int = 0

    def __post_init__(self):
        for name in ("exc_rate_hz", "inh_rate_hz", "tau_exc_ms", "tau_inh_ms", "dur_ms"):
            if not getattr(self, name) > 0:
                raise ValueError(f"synaptic drive: {name} must be > 0, got {getattr(self, name)}")
        if self.drive < 0 or self.inh_ratio < 0 or self.delay_ms < 0 or self.tail_ms < 0:
            raise ValueError("synaptic drive: drive, inh_ratio, delay_ms, tail_ms must be >= 0")

    @property
    def tstop_ms(self) -> float:
        return self.delay_ms + self.dur_ms + self.tail_ms

    @property
    def window_ms(self) -> tuple[float, float]:
        return (self.delay_ms, self.delay_ms + self.dur_ms)

    def mean_conductances_uS(self, rheobase_nA: float, v_rest_mV: float) -> tuple[float, float]:
        """(g_exc, g_inh) means in µS whose current at ``v_rest_mV`` is drive × rheobase."""
        # drive*R = g_e (E_e - V) + g_i (E_i - V), with g_i = inh_ratio * g_e
        per_uS = (self.e_exc_mV - v_rest_mV) + self.inh_ratio * (self.e_inh_mV - v_rest_mV)
        if per_uS <= 0:
            raise ValueError(
                f"synaptic drive: at rest ({v_rest_mV:.1f} mV) this excitation/inhibition mix "
                f"gives no depolarising current; lower inh_ratio ({self.inh_ratio})")
        g_e = self.drive * rheobase_nA / per_uS
        return g_e, self.inh_ratio * g_e

    def weights_uS(self, rheobase_nA: float, v_rest_mV: float) -> tuple[float, float]:
        """Per-event ExpSyn weights (µS): mean g = rate × weight × tau."""
        g_e, g_i = self.mean_conductances_uS(rheobase_nA, v_rest_mV)
        return (g_e / (self.exc_rate_hz * 1e-3 * self.tau_exc_ms),
                g_i / (self.inh_rate_hz * 1e-3 * self.tau_inh_ms))

    def event_times_ms(self) -> tuple[np.ndarray, np.ndarray]:
        """Poisson event times (ms) of excitation and inhibition inside the input window."""
        rng = np.random.default_rng(self.seed)
        out = []
        for rate in (self.exc_rate_hz, self.inh_rate_hz):
            n = rng.poisson(rate * self.dur_ms * 1e-3)
            out.append(np.sort(self.delay_ms + rng.uniform(0.0, self.dur_ms, n)))
        return out[0], out[1]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class SomaSynapses:
    """Two ExpSyn on a segment (excitation, inhibition), silent until :meth:`arm` gives them a
    drive; while armed, every ``finitialize`` queues the drive's events.

    Created silent (weight 0, no events) they add exactly nothing to the cell, so a rig can
    keep them from the start and its saved state stays valid whether a protocol uses them or
    not (a SaveState only restores into the structure it was saved from).
    """

    def __init__(self, h, seg, drive: SynapticDrive | None = None,
                 weights_uS: tuple[float, float] = (0.0, 0.0)):
        self.syns, self.netcons, self.g_recs = [], [], []
        for _ in range(2):
            syn = h.ExpSyn(seg)
            nc = h.NetCon(None, syn)
            nc.weight[0] = 0.0
            self.syns.append(syn)
            self.netcons.append(nc)
            self.g_recs.append(h.Vector().record(syn._ref_g))
        self.times: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
        self.armed = False
        # Events are queued by finitialize's handler; disarmed while a rig settles to rest.
        self._fih = h.FInitializeHandler(1, self._queue)
        if drive is not None:
            self.arm(drive, weights_uS)

    def arm(self, drive: SynapticDrive, weights_uS: tuple[float, float]) -> None:
        """Give the synapses this drive's kinetics, weights and event times."""
        self.set_parameters(drive, weights_uS)
        self.times = drive.event_times_ms()
        self.armed = True

    def set_parameters(self, drive: SynapticDrive, weights_uS: tuple[float, float]) -> None:
        """Time constants, reversal potentials and weights. Call it again after a
        ``SaveState.restore``: that restores every variable of a point process with a
        NET_RECEIVE block, ExpSyn's tau and e included."""
        for syn, nc, tau, e, w in zip(self.syns, self.netcons,
                                      (drive.tau_exc_ms, drive.tau_inh_ms),
                                      (drive.e_exc_mV, drive.e_inh_mV), weights_uS, strict=True):
            syn.tau, syn.e = tau, e
            nc.weight[0] = w

    def disarm(self) -> None:
        """No further events (after the next finitialize) and zero weights."""
        self.armed = False
        for nc in self.netcons:
            nc.weight[0] = 0.0

    def _queue(self) -> None:
        if not self.armed:
            return
        for nc, times in zip(self.netcons, self.times, strict=True):
            for t in times:
                nc.event(float(t))

    def current_in_nA(self, v_mV: np.ndarray, dt_ms: float) -> np.ndarray:
        """Synaptic current into the cell per sample: entry k is what the step from k-1 to k
        applied, ``g (e - v_k)`` with the conductance that step used (entry 0 is 0).

        A fixed step delivers the events, computes the current with that conductance and the
        new voltage (the implicit step, exact as ExpSyn is linear in v), then decays g by
        ``exp(-dt/tau)`` before it is recorded: so the conductance used is the recorded one
        times ``exp(dt/tau)``.
        """
        v = np.asarray(v_mV, dtype=float)
        out = np.zeros(len(v))
        for syn, rec in zip(self.syns, self.g_recs, strict=True):
            g = np.asarray(rec)[1: len(v)] * np.exp(dt_ms / float(syn.tau))
            out[1:] += g * (float(syn.e) - v[1:])
        return out

    def close(self) -> None:
        """Remove the synapses (before their section goes: NEURON crashes on stale records)."""
        self.armed = False
        self._fih = None
        self.g_recs, self.netcons, self.syns = [], [], []

    def mean_g_uS(self, window_ms: tuple[float, float], dt_ms: float) -> list[float]:
        i0, i1 = (int(round(t / dt_ms)) for t in window_ms)
        return [float(np.mean(np.array(g)[i0:i1])) for g in self.g_recs]
