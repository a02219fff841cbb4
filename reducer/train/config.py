"""Training options: one frozen dataclass, saved beside every checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of the three stages (times in ms).

    Attributes:
        seed: PRNG seed (hidden-layer start, closed-loop windows).
        n_states: gating states K (NEURON cost grows with them).
        n_hidden: hidden units H (functions of V only: free with NMODL TABLEs).
        tau_range_ms: time constants of the filter-bank states (log-spaced).
        gate_slope: starting slope of the filter states' z_inf (per normalised-voltage unit).
        ridge: relative ridge of the readout least squares.
        n_gated: how many of the K states start as sigmoid gates (:data:`GATE_FAMILIES`).
        freeze_filters: keep the filter states exactly linear (otherwise they are trained).
        extrap_weight: weight of the linear-continuation rows below the recorded voltages.
        dc_weight: weight of the rows matching the full cell's steady-state current under
            somatic voltage clamp (when the run measured it).
        hold_weight: factor on the open-loop weights of samples taken while a training
            protocol holds the soma (:func:`weight_holds`).
        step_weight: factor on the open-loop weights of the samples inside depolarising
            training steps (:func:`weight_steps`).
        trim: after the closed loop, add the linear conductance trim chosen on the training
            and validation steps (:mod:`reducer.train.trim`).
        weight_by_conductance: voltage-equivalent weighting of the open-loop error.
        lowpass_ms, lowpass_weight: optional extra rows on the low-passed current error.
        open_loop_steps, open_loop_lr: Adam steps and peak learning rate (cosine decay).
        select_every: open-loop steps between closed-loop validation candidates.
        closed_loop_*: the closed-loop stage (0 epochs = off); an epoch replaces the open-loop
            model only if its validation score is higher by ``closed_loop_min_gain`` (about
            one spike's worth of Γ averaged over the validation protocols: smaller gains are
            within the noise of the selection).
        window_ms, batch_windows, grad_clip, v_clip_mV, spike_start_frac,
        spike_start_offset_ms: its windows and loss.
    """

    seed: int = 0
    n_states: int = 12
    n_hidden: int = 16
    tau_range_ms: tuple[float, float] = (0.2, 300.0)
    gate_slope: float = 0.25
    ridge: float = 1e-6
    open_loop_steps: int = 300
    open_loop_lr: float = 3e-2
    closed_loop_epochs: int = 6
    closed_loop_steps_per_epoch: int = 30
    closed_loop_min_gain: float = 0.02
    closed_loop_lr: float = 3e-5
    window_ms: float = 40.0
    batch_windows: int = 16
    grad_clip: float = 1.0
    v_clip_mV: float = -40.0
    spike_start_frac: float = 0.5
    spike_start_offset_ms: float = 2.0
    weight_by_conductance: bool = True
    lowpass_ms: float = 10.0
    lowpass_weight: float = 0.0
    n_gated: int = 4
    select_every: int = 25
    freeze_filters: bool = False
    extrap_weight: float = 1.0
    dc_weight: float = 1.0
    hold_weight: float = 0.01
    step_weight: float = 10.0
    trim: bool = True

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
