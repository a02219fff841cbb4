"""The hybrid cell as a continuous-time ODE, solved with diffrax's adaptive solvers.

    C dV/dt  = 1e3 * ((I_stim(t) + I_axial(V, z)) * 100 / area - i_ion(state, V))   (mV/ms)
    d state/dt = membrane.rhs(state, V)        soma mechanisms' DERIVATIVE / KINETIC blocks
    dz/dt    = (z_inf(V) - z) / tau(V)         the learned axial current's gates

(C in uF/cm2, I in nA, area in um2, i_ion in mA/cm2.) This is the model the fixed-step
simulator (:meth:`~reducer.hybrid.cell.HybridCell.simulate`, NEURON's scheme) approximates to
first order in dt; solving it to a tolerance gives a reference for that scheme's time-step
error, and a simulator for stimuli where a fixed step is wasteful.

Stimulus convention (the same per-step array the fixed-step simulator takes): step k uses
``i_stim_nA[k]`` on ``[k dt, (k+1) dt)``, i.e. I_stim is piecewise constant and
right-continuous. Every time the value changes is passed to the step-size controller as a
jump (``jump_ts``): the solver steps to just before it and restarts just after it, never
across it, so its error estimate never sees the discontinuity.

The system is stiff (a small soma with a large axial conductance, fast Na gates), so the
default solver is the L-stable implicit Kvaerno5 with a PID step-size controller.
"""

from __future__ import annotations

import math

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from reducer.errors import TrainingError
from reducer.hybrid.cell import HybridCell

jax.config.update("jax_enable_x64", True)

# Budget of solver steps (accepted + rejected) per ms of simulated time for the default
# max_steps. Measured with a 6-state axial current, 0.8 nA for 190 ms, default solver:
# 6 steps/ms (hh, 95 Hz firing) to 17 steps/ms (CA1 soma channels, 430 Hz) at rtol 1e-6,
# 33 steps/ms at rtol 1e-9. 200 per ms leaves a wide margin and still stops a step size
# that has collapsed (a blow-up, a badly conditioned model) within seconds, not hours.
STEPS_PER_MS = 200
MIN_STEPS = 4096
MIN_PIECES = 64  # stimulus pieces are padded to a power of two, at least this many


def default_max_steps(t_end_ms: float, n_jumps: int) -> int:
    """max_steps when none is given: STEPS_PER_MS per ms plus two steps per stimulus jump
    (the controller stops before and restarts after each), rounded up to a multiple of
    MIN_STEPS (max_steps is static: stimuli of similar length share one compiled solver)."""
    need = STEPS_PER_MS * t_end_ms + 2 * n_jumps
    return MIN_STEPS * max(1, int(math.ceil(need / MIN_STEPS)))


def stimulus_pieces(i_stim_nA, dt_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """The per-step stimulus as (start times ms, values nA) of its constant pieces: the
    first piece starts at 0, a new one wherever the value changes (k dt for step k)."""
    i = np.asarray(i_stim_nA, dtype=np.float64)
    if i.ndim != 1 or i.size == 0:
        raise TrainingError(f"i_stim_nA must be a non-empty 1-d array of per-step currents "
                            f"(nA); got shape {i.shape}")
    starts = np.concatenate([[0], np.flatnonzero(np.diff(i)) + 1])
    return starts * float(dt_ms), i[starts]


def default_solver() -> diffrax.AbstractSolver:
    """Kvaerno5 (L-stable ESDIRK, order 5) whose stage equations are solved by Newton's
    method with the controller's tolerances. diffrax's default chord iteration reuses the
    Jacobian of the step's start, which diverged on about half of the steps around spikes
    (hh + a 4-state axial current, 0.3 nA for 180 ms: 7054 accepted + 7384 rejected steps
    against 1240 + 376 with Newton, 3.8x the time)."""
    return diffrax.Kvaerno5(root_finder=diffrax.with_stepsize_controller_tols(optx.Newton)())


def _vector_field(cell: HybridCell, mask):
    membrane, axial = cell.membrane, cell.axial
    to_density = 100.0 / cell.area_um2  # nA -> mA/cm2
    mv_per_ms = 1e3 / cell.cm_uF_per_cm2  # (mA/cm2) / (uF/cm2) -> mV/ms

    def field(t, y, args):
        v, m_dyn, z = y
        piece_t, piece_i, m_static = args
        k = jnp.searchsorted(piece_t, t, side="right") - 1
        i_stim = piece_i[jnp.clip(k, 0, piece_i.shape[0] - 1)]
        i_ion, dm = membrane.rhs(eqx.combine(m_dyn, m_static), v)
        i_ax = axial.current_nA(v, z)
        dv = mv_per_ms * ((i_stim + i_ax) * to_density - i_ion)
        z_inf, tau_ms = axial.gates(v)
        dm_dyn, _ = eqx.partition(dm, mask)
        return dv, dm_dyn, (z_inf - z) / tau_ms

    return field


@eqx.filter_jit
def _solve(cell, state0, piece_t, piece_i, jump_ts, save_ts, t_end_ms, solver, rtol, atol,
           max_steps, dt0_ms):
    v0, m0, z0 = state0
    mask = cell.membrane.ode_mask()
    m_dyn, m_static = eqx.partition(m0, mask)
    controller = diffrax.PIDController(rtol=rtol, atol=atol)
    controller = diffrax.ClipStepSizeController(controller, jump_ts=jump_ts)
    return diffrax.diffeqsolve(
        diffrax.ODETerm(_vector_field(cell, mask)), solver, t0=0.0, t1=t_end_ms, dt0=dt0_ms,
        y0=(jnp.asarray(v0, dtype=jnp.float64), m_dyn, jnp.asarray(z0, dtype=jnp.float64)),
        args=(piece_t, piece_i, m_static),
        saveat=diffrax.SaveAt(ts=save_ts, fn=lambda t, y, args: y[0]),
        stepsize_controller=controller, max_steps=max_steps, throw=False)


def hybrid_solution(cell: HybridCell, i_stim_nA, dt_ms: float, state0,
                    solver: diffrax.AbstractSolver | None = None, rtol: float = 1e-6,
                    atol: float = 1e-8, max_steps: int | None = None,
                    save_every_ms: float | None = None,
                    dt0_ms: float | None = None) -> diffrax.Solution:
    """Solve the hybrid ODE and return diffrax's Solution (``ts``, ``ys`` = V in mV, ``stats``
    with ``num_steps`` / ``num_accepted_steps``, ``result``); no check of ``result``.

    Arguments as :func:`solve_hybrid`. The stimulus must be concrete (not traced): its
    change points become the controller's ``jump_ts``.
    """
    dt_ms = float(dt_ms)
    piece_t, piece_i = stimulus_pieces(i_stim_nA, dt_ms)
    n = int(np.size(i_stim_nA))
    t_end = n * dt_ms
    every = dt_ms if save_every_ms is None else float(save_every_ms)
    n_save = int(round(t_end / every)) if every > 0 else 0
    if n_save < 1 or not math.isclose(n_save * every, t_end, rel_tol=1e-9, abs_tol=1e-12):
        raise TrainingError(f"save_every_ms={every} must divide the simulated time "
                            f"{t_end} ms (= len(i_stim_nA) * dt_ms) into whole samples")
    save_ts = np.minimum(np.arange(n_save + 1) * every, t_end)
    if max_steps is None:
        max_steps = default_max_steps(t_end, piece_t.size - 1)
    # Pad the pieces to a power of two with times past the end (never reached), so that
    # stimuli with different numbers of changes share one compiled solver.
    size = max(MIN_PIECES, 1 << (int(piece_t.size) - 1).bit_length())
    pad_t = t_end + 1.0 + np.arange(size - piece_t.size)
    piece_i = np.concatenate([piece_i, np.full(pad_t.size, piece_i[-1])])
    piece_t = np.concatenate([piece_t, pad_t])
    return _solve(cell, state0, jnp.asarray(piece_t), jnp.asarray(piece_i),
                  jnp.asarray(piece_t[1:]), jnp.asarray(save_ts), jnp.asarray(t_end),
                  default_solver() if solver is None else solver, rtol, atol,
                  int(max_steps), dt0_ms)


def solve_hybrid(cell: HybridCell, i_stim_nA, dt_ms: float, state0,
                 solver: diffrax.AbstractSolver | None = None, rtol: float = 1e-6,
                 atol: float = 1e-8, max_steps: int | None = None,
                 save_every_ms: float | None = None, dt0_ms: float | None = None):
    """Simulate the hybrid cell with an adaptive ODE solver.

    Args:
        cell: the hybrid cell (soma mechanisms + learned axial current).
        i_stim_nA: per-step electrode current (length n, positive depolarising); step k uses
            ``i_stim_nA[k]`` on ``[k dt, (k+1) dt)``, as in the fixed-step simulator.
        dt_ms: the step of that array (the stimulus' time base, not the solver's step).
        state0: ``(v_mV, membrane state, z)`` at t = 0, e.g. ``cell.init_state(v)``.
        solver: a diffrax solver; default :func:`default_solver` (Kvaerno5, stiff, implicit,
            5th order, Newton stage solves).
        rtol, atol: PID controller tolerances (atol applies to V in mV, gates, mM alike).
        max_steps: bound on solver steps (accepted + rejected); default
            :func:`default_max_steps` (200 per simulated ms, 2 per stimulus jump, >= 4096).
        save_every_ms: sample spacing; default ``dt_ms``. Must divide n * dt_ms.
        dt0_ms: first step size; default chosen by diffrax.

    Returns:
        V (mV) at t = 0, save_every, ..., n * dt_ms: length n + 1 with the default spacing,
        the same samples as :meth:`HybridCell.simulate`'s trace.

    Raises:
        NmodlTranslationError: a soma mechanism is not an ODE (names file, line, construct).
        TrainingError: the solver stopped before the end (max_steps reached, step size
            underflow or a non-finite state).
    """
    sol = hybrid_solution(cell, i_stim_nA, dt_ms, state0, solver, rtol, atol, max_steps,
                          save_every_ms, dt0_ms)
    failed = sol.result != diffrax.RESULTS.successful
    try:
        failed = bool(failed)
    except jax.errors.ConcretizationTypeError:
        # Inside jit/grad the outcome is not known yet: fail when it runs instead.
        return eqx.error_if(sol.ys, failed, "diffrax could not solve the hybrid ODE "
                            "(max_steps reached, step size underflow or a non-finite state)")
    if failed:
        t_end = float(np.size(i_stim_nA) * float(dt_ms))
        ys = np.asarray(sol.ys)
        reached = np.asarray(sol.ts)[np.isfinite(ys)]
        t_reached = float(reached[-1]) if reached.size else 0.0
        steps = int(sol.stats["num_steps"])
        if sol.result == diffrax.RESULTS.max_steps_reached:
            raise TrainingError(
                f"solve_hybrid: the ODE solver used its max_steps={sol.stats['max_steps']} "
                f"steps before "
                f"reaching t = {t_end:g} ms (last sample at t = {t_reached:g} ms); the model is "
                f"stiffer or faster than the tolerances allow (rtol={rtol:g}, atol={atol:g}). "
                "Raise max_steps, loosen the tolerances, or check the model for a blow-up "
                "(simulate it with HybridCell.simulate)")
        raise TrainingError(
            f"solve_hybrid: the ODE solver failed before t = {t_end:g} ms (last sample at "
            f"t = {t_reached:g} ms) after {steps} steps: {sol.result}; check the model for "
            "a blow-up (simulate it with HybridCell.simulate) or loosen the tolerances")
    return sol.ys
