"""Stage 0 (the linear filter-bank baseline) and stage 1 (open-loop training)."""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from reducer.errors import TrainingError
from reducer.hybrid.axial import GatedAxialCurrent, init_filter_bank
from reducer.progress import Progress, log
from reducer.train.config import TrainConfig
from reducer.train.data import Padded
from reducer.train.evaluate import format_summary, short_summary
from reducer.train.gates import LINEAR_GATE_SLOPE, q_start, trainable_mask
from reducer.train.losses import (
    LossSpec,
    append_rows,
    check_finite,
    extrapolation_rows,
    fit_readout,
    log_tau_departure,
    loss_rows,
    readout_design,
    solve_readout,
    with_dc_rows,
)


def baseline_filter_bank(data: Padded, dt_ms: float, v_rest: float, i_rest: float,
                         n_states: int = 10) -> GatedAxialCurrent:
    """DESIGN.md's linear floor, expressed in the gating class with a near-linear gate.

    A gate slope of 0.01 keeps z_inf within 0.02 % of affine over -100..+50 mV, so the states
    are exponential filters of V and the least-squares readout is the linear filter bank.
    """
    ax = init_filter_bank(n_states=n_states, n_hidden=1, gate_slope=LINEAR_GATE_SLOPE,
                          tau_range_ms=(0.2, 300.0), key=jax.random.PRNGKey(0),
                          hidden_init_scale=0.0)
    return fit_readout(ax, data, dt_ms, 1e-9, v_rest, i_rest, q_from=n_states)


def _open_loop_loss(axial, data: Padded, dt_ms, scale, v_rest, i_rest, spec: LossSpec,
                    ridge, n_rows: float, grid=None, q_from: int = 0,
                    extrap_weight: float = 0.0):
    """Variable projection: the readout is the weighted least-squares optimum for the current
    gates (solved inside the loss), so gradients only move the gating dynamics and the readout
    is always exact to the pA, which Adam alone reaches slowly."""
    x = readout_design(axial, data, dt_ms, v_rest, q_from, grid=grid)
    y = jnp.where(data.mask[:, 1:], data.i_axial[:, 1:] - i_rest, 0.0)
    a, b = loss_rows(x, y, spec, dt_ms)
    penalty = 0.0
    if extrap_weight > 0:
        v_low = grid[0] + 1.0  # the recorded minimum (grid has 1 mV margin)
        e = extrapolation_rows(axial, v_low, v_rest, q_from)
        # Each row counts like extrap_weight * (samples per row) data samples.
        e = e * math.sqrt(extrap_weight * n_rows / e.shape[1])
        a, b = append_rows(a, b, e)
        penalty = extrap_weight * 1e-3 * log_tau_departure(axial, v_low)
    a, b = with_dc_rows(a, b, axial, spec, v_rest, i_rest, q_from, n_rows)
    coef = solve_readout(a, b, n_rows, ridge)
    return jnp.sum(((a @ coef - b) / scale) ** 2) / n_rows + penalty, coef




def train_open_loop(axial, data: Padded, dt_ms, cfg: TrainConfig, v_rest, i_rest,
                    history: list[float], spec: LossSpec, score_fn=None,
                    selection: list | None = None) -> GatedAxialCurrent:
    """Adam on the gating parameters, readout by least squares inside the loss.

    With ``score_fn`` (model -> (score, summary), higher is better: closed-loop validation),
    candidates from the second half of the run (every ``cfg.select_every`` steps, and the last)
    get their exact readout and are scored; the best one is returned and every score is
    appended to ``selection``. Without it, the lowest-loss parameters are returned.
    """
    w = np.asarray(spec.weights)
    y = np.asarray(data.i_axial)[:, 1:]
    scale = float(np.sqrt(np.sum(w * (y - np.sum(w * y) / np.sum(w))**2) / np.sum(w)))
    n_rows = float(np.sum(w > 0))
    v_np = np.asarray(data.v)
    v_valid = v_np[np.asarray(data.mask)]
    # 1 mV margin below: _open_loop_loss takes grid[0] + 1 as the recorded minimum.
    grid = (float(v_valid.min()) - 1.0, float(v_valid.max()) + 1.0)
    # Cosine decay: the loss is noisy at a constant rate (spike-time currents), and the final
    # steps should settle rather than wander.
    lr = optax.cosine_decay_schedule(cfg.open_loop_lr, max(cfg.open_loop_steps, 1), alpha=0.05)
    opt = optax.chain(optax.clip_by_global_norm(cfg.grad_clip), optax.adam(lr))
    params, static = eqx.partition(axial, eqx.is_array)
    opt_state = opt.init(params)
    mask = trainable_mask(axial, cfg)
    q_from = q_start(cfg)

    @jax.jit
    def step(params, opt_state):
        def loss_fn(p):
            return _open_loop_loss(eqx.combine(p, static), data, dt_ms, scale, v_rest, i_rest,
                                   spec, cfg.ridge, n_rows, grid, q_from, cfg.extrap_weight)

        (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        grads = jax.tree_util.tree_map(jnp.multiply, grads, mask)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    def exact(p):  # the readout for the exact (not grid-interpolated) gates
        return fit_readout(eqx.combine(p, static), data, dt_ms, cfg.ridge, v_rest, i_rest,
                           q_from=q_from, spec=spec, extrap_weight=cfg.extrap_weight)

    n = cfg.open_loop_steps
    every = max(cfg.select_every, 1)
    checks = {k for k in range(n // 2, n, every)} | {n} if score_fn is not None else set()
    prog = Progress(n, "train open loop")
    best_loss = (np.inf, params)
    best_score: tuple[float, Any] = (-np.inf, None)
    for k in range(n + 1):
        if k in checks:  # params after k updates
            cand = exact(params)
            score, summary = score_fn(cand)
            if selection is not None:
                selection.append({"step": k, "score": score, **short_summary(summary)})
            log(f"open loop step {k}: validation {format_summary(summary)}")
            if score > best_score[0]:
                best_score = (score, cand)
        if k == n:
            break
        new_params, opt_state, loss = step(params, opt_state)
        history.append(float(loss))
        if not math.isfinite(history[-1]):
            check_finite(new_params, "open loop", k)
            raise TrainingError(f"open-loop loss became {history[-1]} at step {k}: lower "
                                "--lr-open or change --seed")
        if history[-1] < best_loss[0]:  # the loss belongs to params, before this update
            best_loss = (history[-1], params)
        params = new_params
        prog.update(k + 1, f"loss {history[-1]:.4g} (normalised, weighted MSE of I_axial)")
    prog.close()
    if best_score[1] is not None:
        return best_score[1]
    return exact(best_loss[1])
