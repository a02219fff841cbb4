"""Training the learned axial current (optax), one concept per module.

Stages:
  0. baseline   the DESIGN.md linear filter bank (10 exponential filters of V, log-spaced tau
                0.2-300 ms), readout by ordinary least squares on recorded (V, I_axial).
  1. open loop  the gating model starts as a filter bank plus sigmoid gates of the usual
                Hodgkin-Huxley families (:data:`GATE_FAMILIES`). The loss is the current error
                weighted by (g_ref / (g_soma + g_ref))^2 -- the voltage error it causes, so the
                fit spends its accuracy between spikes (g_soma: the soma's own conductance along
                the recording, g_ref: the dendritic load, the baseline's DC slope checked
                against the full cell's measured load). Variable projection: the readout is
                the weighted least-squares optimum inside the loss (pA-exact at every step), Adam
                moves only the gating dynamics; the resting current is an exact constraint,
                extra rows keep the steady-state current linear below the recorded voltages
                (passive dendrites), and more rows ask the steady-state current to match the
                full cell's under somatic voltage clamp, -100 to 0 mV (the "dc" split).
                Samples taken while a training protocol holds the soma count ``hold_weight``
                (0.01) of their conductance weight; the baseline and the closed loop use the
                free-running protocols only. Candidates from the second half of the run are
                simulated closed loop on the validation protocols; the best (spike timing,
                subthreshold error, spike count) is kept.
  2. closed loop  V free: short windows start from the recorded state (teacher-forced soma
                gates and z), loss = clipped-voltage error, every epoch scored on validation;
                the best checkpoint is kept, and the open-loop model (epoch 0) unless an epoch
                beats it by more than the selection's noise (``closed_loop_min_gain``). On the
                CA1 cell (seed 0) epoch 5 beat it in validation score (0.687) and was kept;
                6 short epochs cost about a minute there.

  3. trim       a linear conductance -dg (V - V_rest), zero at rest and folded into the
                readout, chosen on a grid by the spike counts and first-spike latencies of the
                depolarising training and validation steps (near threshold a few pA move the
                first spike by ms, and trained seeds differ there); the trimmed model's
                validation score is what the restarts compare (``--no-trim``: skip).

Every stage checkpoints to ``<work_dir>`` and is skipped when its checkpoint exists (resume);
runs are reproducible from ``TrainConfig.seed``.
"""


import jax

# Neuron dynamics in float64, before any training module builds an array.
jax.config.update("jax_enable_x64", True)

from reducer.train.config import TrainConfig  # noqa: E402
from reducer.train.data import Padded, check_dataset, pad_dataset  # noqa: E402
from reducer.train.driver import TrainResult, train_hybrid  # noqa: E402
from reducer.train.evaluate import closed_loop_metrics, selection_score  # noqa: E402
from reducer.train.gates import dendritic_load_nS, init_mixed  # noqa: E402
from reducer.train.restarts import train_multistart  # noqa: E402
from reducer.train.trim import choose_trim, trimmed  # noqa: E402

__all__ = ["Padded", "TrainConfig", "TrainResult", "check_dataset", "choose_trim",
           "closed_loop_metrics", "dendritic_load_nS", "init_mixed", "pad_dataset",
           "selection_score", "train_hybrid", "train_multistart", "trimmed"]
