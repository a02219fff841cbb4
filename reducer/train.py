"""Training the learned axial current (optax).

Stages:
  0. baseline   the DESIGN.md linear filter bank (10 exponential filters of V, log-spaced tau
                0.2-300 ms), readout by ordinary least squares on recorded (V, I_axial).
  1. open loop  the gating model starts at the filter bank (near-linear z_inf, constant tau),
                readout by least squares, then Adam on every parameter against the recorded
                axial current, V clamped to the recording (teacher forcing).
  2. closed loop  V free: short windows start from the recorded state (teacher-forced soma
                gates and z) and the loss is the voltage error; every epoch the whole validation
                protocols are simulated closed loop and the checkpoint with the best validation
                spike timing (coincidence factor) and subthreshold error is kept.

The resting current is pinned: the bias is set so that I_axial(v_rest, z_inf(v_rest)) equals the
full cell's axial current at rest, so the reduced cell rests where the full cell does.
Every stage checkpoints to ``<work_dir>`` and is skipped when its checkpoint exists (resume);
runs are reproducible from ``TrainConfig.seed``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from reducer import metrics
from reducer.errors import TrainingError
from reducer.hybrid.axial import GatedAxialCurrent, init_filter_bank
from reducer.hybrid.cell import HybridCell, open_loop_axial, teacher_forced, teacher_forced_z
from reducer.hybrid.model_io import load_model, save_model
from reducer.progress import Progress, log
from reducer.targets import Dataset

jax.config.update("jax_enable_x64", True)


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of the three stages (times in ms)."""

    seed: int = 0
    n_states: int = 10
    n_hidden: int = 8
    tau_range_ms: tuple[float, float] = (0.2, 300.0)
    gate_slope: float = 0.25
    ridge: float = 1e-6
    open_loop_steps: int = 600
    open_loop_lr: float = 3e-3
    closed_loop_epochs: int = 6
    closed_loop_steps_per_epoch: int = 30
    closed_loop_lr: float = 1e-3
    window_ms: float = 40.0
    batch_windows: int = 16
    grad_clip: float = 1.0
    v_loss_clip_mV: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ----------------------------------------------------------------------------- data


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
    return Padded(jnp.asarray(v), jnp.asarray(ia), jnp.asarray(ist), jnp.asarray(mask), lengths,
                  list(ds.names), np.arange(n) * dt)


# ----------------------------------------------------------------------------- helpers


def pin_rest(axial: GatedAxialCurrent, v_rest_mV: float, i_rest_nA: float) -> GatedAxialCurrent:
    """Shift the bias so that the current at the resting steady state equals ``i_rest_nA``."""
    z = axial.steady_state(v_rest_mV)
    no_bias = axial.current_nA(v_rest_mV, z) - axial.bias_nA
    return eqx.tree_at(lambda m: m.bias_nA, axial, jnp.asarray(i_rest_nA) - no_bias)


def _zs_batch(axial, v, dt_ms):
    """Teacher-forced z at every sample, (P, N+1, K)."""

    return jax.vmap(lambda vv: teacher_forced_z(axial, vv, dt_ms))(v)


def fit_readout(axial: GatedAxialCurrent, data: Padded, dt_ms: float, ridge: float,
                use_q: bool = True) -> GatedAxialCurrent:
    """Least-squares readout (w, q, w_u, bias) for the current gating dynamics."""
    zs = np.asarray(_zs_batch(axial, data.v, dt_ms))  # (P, N+1, K)
    v = np.asarray(data.v)
    u = (v - axial.v_offset_mV) / axial.v_scale_mV
    # prediction[k] = I(v_k, z_{k-1}) for k >= 1
    z_prev = zs[:, :-1]
    u_k = u[:, 1:]
    y = np.asarray(data.i_axial)[:, 1:]
    m = np.asarray(data.mask)[:, 1:]
    cols = [z_prev]
    if use_q:
        cols.append(z_prev * u_k[..., None])
    cols += [u_k[..., None], np.ones_like(u_k)[..., None]]
    x = np.concatenate(cols, axis=-1)[m]
    yy = y[m]
    scale = x.std(axis=0) + 1e-12
    xs = x / scale
    a = xs.T @ xs + ridge * len(yy) * np.eye(xs.shape[1])
    coef = np.linalg.solve(a, xs.T @ yy) / scale
    k = axial.n_states
    w = coef[:k]
    q = coef[k: 2 * k] if use_q else np.zeros(k)
    w_u, bias = coef[-2], coef[-1]
    return eqx.tree_at(
        lambda mm: (mm.w, mm.q, mm.w_u, mm.bias_nA), axial,
        (jnp.asarray(w), jnp.asarray(q), jnp.asarray(w_u), jnp.asarray(bias)),
    )


def _check_finite(tree, stage: str, step: int) -> None:
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(eqx.filter(tree, eqx.is_array))]
    if not all(np.all(np.isfinite(x)) for x in leaves):
        raise TrainingError(
            f"training stage '{stage}' produced NaN/inf parameters at step {step}: lower the "
            "learning rate (--lr-open/--lr-closed) or the window length, or change --seed; "
            "the last good checkpoint is kept in the run's train/ folder"
        )


# ----------------------------------------------------------------------------- evaluation


def simulate_closed_loop(cell: HybridCell, v0, i_stim, dt_ms: float):
    """Closed-loop V for every protocol from its settled state v0 (P,); i_stim (P, N+1)."""

    def one(v_init, i):
        v, _ = cell.simulate(i[1:], dt_ms, cell.init_state(v_init))
        return v

    return jax.vmap(one)(v0, i_stim)


_sim_jit = eqx.filter_jit(simulate_closed_loop)


def closed_loop_metrics(cell: HybridCell, data: Padded, dt_ms: float) -> dict[str, Any]:
    """Metrics of the closed-loop JAX model against the recorded full-cell traces."""
    v_model = np.asarray(_sim_jit(cell, data.v[:, 0], data.i_stim, dt_ms))
    per = []
    for p in range(len(data.names)):
        n = int(data.lengths[p])
        t = data.t_ms[:n]
        r = metrics.compare_traces(t, np.asarray(data.v[p, :n]), v_model[p, :n])
        r["name"] = data.names[p]
        per.append(r)
    summ = metrics.summarise(per)
    return {"summary": summ, "per_protocol": per, "v_model": v_model}


def selection_score(summary: dict[str, Any]) -> float:
    """Higher is better: validation Γ(4 ms), minus subthreshold error and spike-count error."""
    g = summary.get("gamma_4ms", float("nan"))
    g = 0.0 if not math.isfinite(g) else g
    sub = summary.get("subthreshold_rmse_mV", float("nan"))
    sub = 20.0 if not math.isfinite(sub) else sub
    rel = summary.get("spike_count_rel_error", float("nan"))
    rel = 0.0 if not math.isfinite(rel) else rel
    return g - 0.05 * sub - 0.5 * rel


# ----------------------------------------------------------------------------- stages


def baseline_filter_bank(data: Padded, dt_ms: float, v_rest: float, i_rest: float,
                         n_states: int = 10) -> GatedAxialCurrent:
    """DESIGN.md's linear floor, expressed in the gating class with a near-linear gate.

    A gate slope of 0.01 keeps z_inf within 0.02 % of affine over -100..+50 mV, so the states
    are exponential filters of V and the least-squares readout is the linear filter bank.
    """
    ax = init_filter_bank(n_states=n_states, n_hidden=1, gate_slope=0.01,
                          tau_range_ms=(0.2, 300.0), key=jax.random.PRNGKey(0),
                          hidden_init_scale=0.0)
    ax = fit_readout(ax, data, dt_ms, ridge=1e-9, use_q=False)
    return pin_rest(ax, v_rest, i_rest)


def _open_loop_loss(axial, data: Padded, dt_ms, scale, v_rest, i_rest):
    axial = pin_rest(axial, v_rest, i_rest)
    pred = jax.vmap(lambda v: open_loop_axial(axial, v, dt_ms))(data.v)
    err = (pred - data.i_axial[:, 1:]) / scale
    m = data.mask[:, 1:]
    return jnp.sum(jnp.where(m, err**2, 0.0)) / jnp.sum(m)


def train_open_loop(axial, data: Padded, dt_ms, cfg: TrainConfig, v_rest, i_rest,
                    history: list[float]) -> GatedAxialCurrent:
    scale = float(np.std(np.asarray(data.i_axial)[np.asarray(data.mask)]))
    opt = optax.chain(optax.clip_by_global_norm(cfg.grad_clip), optax.adam(cfg.open_loop_lr))
    params, static = eqx.partition(axial, eqx.is_array)
    opt_state = opt.init(params)

    @jax.jit
    def step(params, opt_state):
        def loss_fn(p):
            return _open_loop_loss(eqx.combine(p, static), data, dt_ms, scale, v_rest, i_rest)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    prog = Progress(cfg.open_loop_steps, "train open loop")
    for k in range(cfg.open_loop_steps):
        params, opt_state, loss = step(params, opt_state)
        history.append(float(loss))
        if not math.isfinite(history[-1]):
            _check_finite(params, "open loop", k)
            raise TrainingError(f"open-loop loss became {history[-1]} at step {k}: lower "
                                "--lr-open or change --seed")
        prog.update(k + 1, f"loss {history[-1]:.4g} (normalised MSE of I_axial)")
    prog.close()
    return pin_rest(eqx.combine(params, static), v_rest, i_rest)


def _window_starts(data: Padded, n_win: int, rng: np.random.Generator, i_stim_np, lengths):
    """Random window starts; half of them inside stimulated periods."""
    starts = []
    p_count = len(lengths)
    while len(starts) < 4 * max(1, n_win):
        p = int(rng.integers(p_count))
        hi = int(lengths[p]) - n_win - 1
        if hi <= 0:
            continue
        s = int(rng.integers(hi))
        if len(starts) % 2 == 0 and not np.any(i_stim_np[p, s: s + n_win] != 0):
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
    static_cell = cell
    opt = optax.chain(optax.clip_by_global_norm(cfg.grad_clip), optax.adam(cfg.closed_loop_lr))
    params, static = eqx.partition(cell.axial, eqx.is_array)
    opt_state = opt.init(params)

    def window_loss(p, v0, m0, z0, i_stim, v_ref):
        ax = pin_rest(eqx.combine(p, static), v_rest, i_rest)
        c = eqx.tree_at(lambda cc: cc.axial, static_cell, ax)
        v, _ = c.simulate(i_stim, dt_ms, (v0, m0, z0))
        err = v[1:] - v_ref
        return jnp.mean(err**2)

    @jax.jit
    def step(params, opt_state, v0, m0, z0, i_stim, v_ref):
        def loss_fn(p):
            losses = jax.vmap(window_loss, in_axes=(None, 0, 0, 0, 0, 0))(
                p, v0, m0, z0, i_stim, v_ref)
            return jnp.mean(losses)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    zs_fn = jax.jit(lambda ax, v: _zs_batch(ax, v, dt_ms))

    def current_cell(params):
        ax = pin_rest(eqx.combine(params, static), v_rest, i_rest)
        return eqx.tree_at(lambda cc: cc.axial, static_cell, ax)

    best = {"score": -np.inf, "epoch": 0}
    c0 = current_cell(params)
    ev = closed_loop_metrics(c0, val, dt_ms)
    best.update(score=selection_score(ev["summary"]), epoch=0, summary=ev["summary"])
    best_params = params
    history.setdefault("validation", []).append({"epoch": 0, **_short(ev["summary"])})
    log(f"closed loop epoch 0 (open-loop model): validation {_fmt(ev['summary'])}")
    total = cfg.closed_loop_epochs * cfg.closed_loop_steps_per_epoch
    prog = Progress(total, "train closed loop")
    done = 0
    for epoch in range(1, cfg.closed_loop_epochs + 1):
        zs = zs_fn(current_cell(params).axial, train.v)
        for _ in range(cfg.closed_loop_steps_per_epoch):
            starts = _window_starts(train, n_win, rng, i_stim_np, train.lengths)
            idx = rng.choice(len(starts), size=cfg.batch_windows, replace=False)
            sel = [starts[i] for i in idx]
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
        _check_finite(params, "closed loop", done)
        ev = closed_loop_metrics(current_cell(params), val, dt_ms)
        score = selection_score(ev["summary"])
        history["validation"].append({"epoch": epoch, **_short(ev["summary"])})
        log(f"closed loop epoch {epoch}: validation {_fmt(ev['summary'])}")
        if score > best["score"]:
            best.update(score=score, epoch=epoch, summary=ev["summary"])
            best_params = params
            save_model(checkpoint_dir / "closed_loop_best",
                       pin_rest(eqx.combine(params, static), v_rest, i_rest),
                       {"stage": "closed_loop", "epoch": epoch, "score": score})
    prog.close()
    final = pin_rest(eqx.combine(best_params, static), v_rest, i_rest)
    return final, best


def _short(summary: dict) -> dict:
    keys = ("gamma_4ms", "gamma_2ms", "v_rmse_mV", "subthreshold_rmse_mV",
            "spike_count_rel_error", "n_spikes_ref", "n_spikes_model")
    return {k: summary.get(k) for k in keys}


def _fmt(s: dict) -> str:
    return (f"Γ4={s.get('gamma_4ms', float('nan')):.3f} Γ2={s.get('gamma_2ms', float('nan')):.3f}"
            f" sub-RMSE={s.get('subthreshold_rmse_mV', float('nan')):.2f} mV"
            f" spikes {s.get('n_spikes_model')}/{s.get('n_spikes_ref')}")


# ----------------------------------------------------------------------------- driver


@dataclass
class TrainResult:
    model: GatedAxialCurrent
    baseline: GatedAxialCurrent
    history: dict[str, Any]
    selection: dict[str, Any]


def train_hybrid(membrane, soma: dict[str, Any], train_ds: Dataset, val_ds: Dataset,
                 cfg: TrainConfig, work_dir: Path) -> TrainResult:
    """Run (or resume) all stages; models are written to ``work_dir``."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    dt_ms = float(train_ds.meta[0]["dt_ms"])
    v_rest = float(train_ds.meta[0]["v_rest_mV"])
    i_rest = float(train_ds.meta[0]["i_axial_rest_nA"])
    train = pad_dataset(train_ds)
    val = pad_dataset(val_ds)
    hist_path = work_dir / "history.json"
    history: dict[str, Any] = json.loads(hist_path.read_text()) if hist_path.exists() else {}
    timings = history.setdefault("wall_s", {})

    def done(name):
        return (work_dir / name / "axial_model.json").exists()

    def save_history():
        tmp = hist_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(history, indent=1))
        tmp.replace(hist_path)

    t0 = time.perf_counter()
    if done("baseline"):
        baseline, _ = load_model(work_dir / "baseline")
    else:
        log("stage 0: linear filter-bank baseline (least squares)")
        baseline = baseline_filter_bank(train, dt_ms, v_rest, i_rest)
        _check_finite(baseline, "baseline", 0)
        save_model(work_dir / "baseline", baseline, {"stage": "baseline"})
        timings["baseline"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if done("open_loop"):
        axial, _ = load_model(work_dir / "open_loop")
    else:
        log(f"stage 1: open loop, {cfg.n_states} states, {cfg.n_hidden} hidden units")
        axial = init_filter_bank(n_states=cfg.n_states, n_hidden=cfg.n_hidden,
                                 tau_range_ms=cfg.tau_range_ms, gate_slope=cfg.gate_slope,
                                 key=jax.random.PRNGKey(cfg.seed))
        axial = fit_readout(axial, train, dt_ms, cfg.ridge)
        axial = pin_rest(axial, v_rest, i_rest)
        hist: list[float] = []
        axial = train_open_loop(axial, train, dt_ms, cfg, v_rest, i_rest, hist)
        history["open_loop"] = hist
        _check_finite(axial, "open loop", cfg.open_loop_steps)
        save_model(work_dir / "open_loop", axial, {"stage": "open_loop"})
        timings["open_loop"] = time.perf_counter() - t0
        save_history()

    cell = HybridCell(axial=axial, membrane=membrane, area_um2=float(soma["area_um2"]),
                      cm_uF_per_cm2=float(soma["cm_uF_per_cm2"]))
    t0 = time.perf_counter()
    if done("final"):
        model, meta = load_model(work_dir / "final")
        selection = meta.get("selection", {})
    else:
        if cfg.closed_loop_epochs > 0:
            log("stage 2: closed loop")
            model, best = train_closed_loop(cell, train, val, dt_ms, cfg, v_rest, i_rest,
                                            history, work_dir)
            selection = {"epoch": best["epoch"], "score": best["score"],
                         "validation": _short(best["summary"])}
        else:
            model, selection = axial, {"epoch": 0}
        timings["closed_loop"] = time.perf_counter() - t0
        save_model(work_dir / "final", model, {"stage": "final", "selection": selection,
                                               "config": cfg.to_dict()})
        save_history()
    return TrainResult(model=model, baseline=baseline, history=history, selection=selection)
