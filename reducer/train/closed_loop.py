"""Stage 2: closed-loop training on short windows started from the recorded state."""

from __future__ import annotations

import math
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from reducer import metrics
from reducer.errors import TrainingError
from reducer.hybrid.axial import GatedAxialCurrent
from reducer.hybrid.cell import HybridCell, teacher_forced
from reducer.hybrid.model_io import save_model
from reducer.progress import Progress, log
from reducer.train.config import TrainConfig
from reducer.train.data import Padded
from reducer.train.evaluate import (
    closed_loop_metrics,
    format_summary,
    selection_score,
    short_summary,
)
from reducer.train.gates import pin_rest, trainable_mask
from reducer.train.losses import check_finite, zs_batch


def _recorded_spike_indices(v_np, lengths, threshold_mV: float = metrics.SPIKE_THRESHOLD_mV):
    """Per protocol, sample indices of upward threshold crossings in the recording."""
    out = []
    for p, n in enumerate(lengths):
        v = v_np[p, : int(n)]
        out.append(np.flatnonzero((v[:-1] < threshold_mV) & (v[1:] >= threshold_mV)) + 1)
    return out


def _window_starts(n_win: int, batch: int, rng: np.random.Generator, i_stim_np, lengths,
                   spike_idx, spike_frac: float, offset_steps: int):
    """Window starts (protocol, sample): a fraction right after recorded spikes (so the window
    holds the following interspike interval), half of the rest inside stimulated periods."""
    starts = []
    all_spikes = [(p, int(s)) for p, ss in enumerate(spike_idx) for s in ss]
    n_spk = int(round(spike_frac * batch)) if all_spikes else 0
    while len(starts) < n_spk:
        p, s = all_spikes[int(rng.integers(len(all_spikes)))]
        s = s + offset_steps
        if s + n_win + 1 <= int(lengths[p]):
            starts.append((p, s))
    tries = 0
    while len(starts) < batch:
        tries += 1
        p = int(rng.integers(len(lengths)))
        hi = int(lengths[p]) - n_win - 1
        if hi <= 0:
            if tries > 100 * batch:
                raise TrainingError(f"every training protocol is shorter than the closed-loop "
                                    f"window ({n_win} steps): lower --window-ms")
            continue
        s = int(rng.integers(hi))
        if len(starts) % 2 == 0 and not np.any(i_stim_np[p, s: s + n_win] != 0) and tries < 1000:
            continue
        starts.append((p, s))
    return starts


def train_closed_loop(cell: HybridCell, train: Padded, val: Padded, dt_ms: float,
                      cfg: TrainConfig, v_rest: float, i_rest: float, history: dict,
                      checkpoint_dir: Path) -> tuple[GatedAxialCurrent, dict]:
    rng = np.random.default_rng(cfg.seed + 1)
    n_win = int(round(cfg.window_ms / dt_ms))
    # Soma mechanism states along the recordings do not depend on the learned parameters.
    mstates = jax.vmap(lambda v: teacher_forced(cell, v, dt_ms)[0])(train.v)
    i_stim_np = np.asarray(train.i_stim)
    v_np = np.asarray(train.v)
    spike_idx = _recorded_spike_indices(v_np, train.lengths)
    off = int(round(cfg.spike_start_offset_ms / dt_ms))
    static_cell = cell
    total_steps = max(cfg.closed_loop_epochs * cfg.closed_loop_steps_per_epoch, 1)
    lr = optax.cosine_decay_schedule(cfg.closed_loop_lr, total_steps, alpha=0.1)
    opt = optax.chain(optax.clip_by_global_norm(cfg.grad_clip), optax.adam(lr))
    params, static = eqx.partition(cell.axial, eqx.is_array)
    opt_state = opt.init(params)
    mask = trainable_mask(cell.axial, cfg)

    def window_loss(p, v0, m0, z0, i_stim, v_ref):
        ax = pin_rest(eqx.combine(p, static), v_rest, i_rest)
        c = eqx.tree_at(lambda cc: cc.axial, static_cell, ax)
        v, _ = c.simulate(i_stim, dt_ms, (v0, m0, z0))
        clip = cfg.v_clip_mV
        # Clipping both traces below the spike keeps the loss on the approach to threshold and
        # the interspike trajectory; a spike a few ms off does not dominate it.
        err = jnp.minimum(v[1:], clip) - jnp.minimum(v_ref, clip)
        return jnp.mean(err**2)

    @jax.jit
    def step(params, opt_state, v0, m0, z0, i_stim, v_ref):
        def loss_fn(p):
            losses = jax.vmap(window_loss, in_axes=(None, 0, 0, 0, 0, 0))(
                p, v0, m0, z0, i_stim, v_ref)
            return jnp.mean(losses)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        grads = jax.tree_util.tree_map(jnp.multiply, grads, mask)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    zs_fn = jax.jit(lambda ax, v: zs_batch(ax, v, dt_ms))

    def current_cell(params):
        ax = pin_rest(eqx.combine(params, static), v_rest, i_rest)
        return eqx.tree_at(lambda cc: cc.axial, static_cell, ax)

    best = {"score": -np.inf, "epoch": 0}
    c0 = current_cell(params)
    ev = closed_loop_metrics(c0, val, dt_ms)
    best.update(score=selection_score(ev["summary"]), epoch=0, summary=ev["summary"])
    score_open_loop = best["score"]
    best_params = params
    history.setdefault("validation", []).append({"epoch": 0, **short_summary(ev["summary"])})
    log(f"closed loop epoch 0 (open-loop model): validation {format_summary(ev['summary'])}")
    total = cfg.closed_loop_epochs * cfg.closed_loop_steps_per_epoch
    prog = Progress(total, "train closed loop")
    done = 0
    for epoch in range(1, cfg.closed_loop_epochs + 1):
        zs = zs_fn(current_cell(params).axial, train.v)
        for _ in range(cfg.closed_loop_steps_per_epoch):
            sel = _window_starts(n_win, cfg.batch_windows, rng, i_stim_np, train.lengths,
                                 spike_idx, cfg.spike_start_frac, off)
            pp = np.array([s[0] for s in sel])
            ss = np.array([s[1] for s in sel])
            v0 = jnp.asarray(v_np[pp, ss])
            m0 = jax.tree_util.tree_map(lambda a, pp=pp, ss=ss: a[pp, ss], mstates)
            z0 = zs[pp, ss]
            cols = ss[:, None] + 1 + np.arange(n_win)[None, :]
            i_win = jnp.asarray(i_stim_np[pp[:, None], cols])
            v_ref = jnp.asarray(v_np[pp[:, None], cols])
            params, opt_state, loss = step(params, opt_state, v0, m0, z0, i_win, v_ref)
            lv = float(loss)
            history.setdefault("closed_loop", []).append(lv)
            done += 1
            if not math.isfinite(lv):
                raise TrainingError(
                    f"closed-loop loss became {lv} in epoch {epoch}: lower --lr-closed or "
                    "--window-ms, or change --seed; the best model so far is in "
                    f"{checkpoint_dir}")
            prog.update(done, f"epoch {epoch} loss {lv:.4g} mV^2")
        check_finite(params, "closed loop", done)
        ev = closed_loop_metrics(current_cell(params), val, dt_ms)
        score = selection_score(ev["summary"])
        history["validation"].append({"epoch": epoch, **short_summary(ev["summary"])})
        log(f"closed loop epoch {epoch}: validation {format_summary(ev['summary'])}")
        if score > best["score"] and score >= score_open_loop + cfg.closed_loop_min_gain:
            best.update(score=score, epoch=epoch, summary=ev["summary"])
            best_params = params
            save_model(checkpoint_dir / "closed_loop_best",
                       pin_rest(eqx.combine(params, static), v_rest, i_rest),
                       {"stage": "closed_loop", "epoch": epoch, "score": score})
    prog.close()
    # Say which model goes on: the selection can keep the open-loop model (epoch 0).
    log(f"closed loop: kept epoch {best['epoch']} (selection score {best['score']:.3f}, "
        f"open-loop model {score_open_loop:.3f})")
    final = pin_rest(eqx.combine(best_params, static), v_rest, i_rest)
    return final, best
