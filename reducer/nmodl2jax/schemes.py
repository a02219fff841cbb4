"""Integration schemes for DERIVATIVE and KINETIC blocks, as NEURON's nocmodl emits them.

* ``cnexp``: every equation ``x' = f`` linear in ``x`` (``f = a*x + b`` with ``a, b`` free of
  ``x`` as written, other names treated as constants, as nocmodl's parser does) becomes the
  exact exponential step ``x += (1 - exp(dt*a)) * (-b/a - x)``, evaluated in statement order;
  an equation that does not contain ``x`` becomes ``x += dt*f``. If nocmodl cannot
  differentiate some equation (``x`` in a function call, denominator or power) it solves the
  block with ``derivimplicit``, and so do we. A polynomial nonlinearity (``x*x``) nocmodl
  differentiates but cannot linearise; it then emits ``x += (1 - exp(dt*df/dx))*(-x)``,
  which we reproduce (see :data:`POLY`).
* ``derivimplicit``: backward Euler ``x1 = x0 + dt*f(x1)`` solved by Newton's method.
* ``euler``: all derivatives from the current values, then ``x += dt*f``.
* KINETIC ``sparse``: backward Euler on the reaction system (CONSERVE replaces one equation,
  COMPARTMENT volumes scale the rates), Newton's method; linear schemes need one step.
* STEADYSTATE: NEURON's steady-state solvers take huge backward-Euler steps; so do we.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from reducer.nmodl2jax.ast_tree import Node
from reducer.nmodl2jax.interp import Frame, Handlers, Interpreter

jax.config.update("jax_enable_x64", True)

CONST, LINEAR, POLY, NONLINEAR = 0, 1, 2, 3
NEWTON_ITERS = 6
STEADY_DT_MS = 1e9
STEADY_STEPS = 7


def linearity(node: Node, state: str) -> int:
    """How expression ``node`` depends on variable ``state``, as nocmodl's cvode_parse sees it.

    CONST (no ``state``), LINEAR, POLY (nonlinear but built from ``+ - *`` and division by
    state-free expressions, which nocmodl can differentiate symbolically) or NONLINEAR
    (``state`` inside a function call, a denominator or a power: nocmodl cannot
    differentiate it and solves the block with derivimplicit).
    """
    k = node.kind
    if k in ("Integer", "Double", "Float"):
        return CONST
    if k in ("WrappedExpression", "ParenExpression"):
        return linearity(node.children[0], state)
    if k == "VarName":
        child = node.children[0]
        return LINEAR if child.kind == "Name" and child.value == state else CONST
    if k == "UnaryExpression":
        inner = linearity(node.children[1], state)
        return inner if node.children[0].value == "-" else (NONLINEAR if inner else CONST)
    if k == "FunctionCall":
        return NONLINEAR if any(linearity(a, state) for a in node.children[1:]) else CONST
    if k == "BinaryExpression":
        op = node.children[1].value
        a, b = linearity(node.children[0], state), linearity(node.children[2], state)
        if op in "+-":
            return max(a, b)
        if op == "*":
            if a == NONLINEAR or b == NONLINEAR:
                return NONLINEAR
            return POLY if (a and b) else max(a, b)
        if op == "/":
            return NONLINEAR if b else a
        return NONLINEAR if (a or b) else CONST
    return NONLINEAR


def derivative_equations(block: Node) -> list[tuple[str, Node]]:
    """(state, rhs) of every ``x' = rhs`` in ``block``, in order."""
    out = []
    for n in block.walk():
        if n.kind == "DiffEqExpression":
            be = n.children[0]
            out.append((be.children[0].children[0].children[0].value, be.children[2]))
    return out


def cnexp_possible(block: Node) -> bool:
    """True if nocmodl would solve this DERIVATIVE block with ``cnexp``: every equation's
    right-hand side can be differentiated by nocmodl (see :func:`linearity`)."""
    return all(linearity(rhs, s) != NONLINEAR for s, rhs in derivative_equations(block))


def run_cnexp(interp: Interpreter, block: Node, frame: Frame, dt: float) -> None:
    """Execute a DERIVATIVE block with nocmodl's cnexp updates, in place on ``frame``."""

    def diffeq(state: str, rhs: Node, fr: Frame) -> None:
        x = interp.lookup(state, fr)
        kind = linearity(rhs, state)

        def f_of(xv):
            fr.override[state] = xv
            try:
                return interp.eval(rhs, fr)
            finally:
                fr.override.pop(state, None)

        if kind == CONST:
            new = x + dt * interp.eval(rhs, fr)
        elif kind == POLY:
            # nocmodl emits x += (1 - exp(dt*df/dx)) * (b - x) with an empty b for equations
            # it can differentiate but not linearise; reproduce what NEURON computes.
            _, a = jax.jvp(f_of, (jnp.asarray(x, dtype=jnp.float64),), (jnp.float64(1.0),))
            new = x + (1.0 - jnp.exp(dt * a)) * (-x)
        else:
            f, a = jax.jvp(f_of, (jnp.asarray(x, dtype=jnp.float64),), (jnp.float64(1.0),))
            # f = a*x + b  =>  -b/a - x = -f/a
            new = x + (1.0 - jnp.exp(dt * a)) * (-f / a)
        interp.assign(state, new, fr)

    interp.exec_block(block, frame, Handlers(diffeq=diffeq))


def eval_derivatives(interp: Interpreter, block: Node, frame: Frame) -> dict[str, object]:
    """Run ``block`` on ``frame`` (its assignments take effect) and return the right-hand
    side of every ``x' = rhs`` at the frame's current values, without changing the states.

    Each value is kept in a frame-local slot named ``x'`` (not a valid NMODL name) so that
    an equation inside an ``if`` on a traced value is merged like any assignment.
    """
    states = [s for s, _ in derivative_equations(block)]
    slots = {s: s + "'" for s in states}
    for slot in slots.values():
        frame.local[slot] = 0.0

    def diffeq(state: str, rhs: Node, f: Frame) -> None:
        f.local[slots[state]] = interp.eval(rhs, f)

    interp.exec_block(block, frame, Handlers(diffeq=diffeq))
    return {s: frame.local.pop(slot) for s, slot in slots.items()}


def _rates(interp: Interpreter, block: Node, frame: Frame, states: list[str], x) -> tuple:
    """Evaluate all derivatives of ``block`` at state vector ``x`` on a copy of ``frame``."""
    fr = frame.copy()
    for i, s in enumerate(states):
        interp.assign(s, x[i], fr)
    deriv = eval_derivatives(interp, block, fr)
    return jnp.stack([jnp.asarray(deriv[s], dtype=jnp.float64) for s in states]), fr


def run_euler(interp: Interpreter, block: Node, frame: Frame, dt: float) -> None:
    """Forward Euler on a DERIVATIVE block (scopmath ``euler``)."""
    states = [s for s, _ in derivative_equations(block)]
    x0 = jnp.stack([jnp.asarray(interp.lookup(s, frame), dtype=jnp.float64) for s in states])
    f, fr = _rates(interp, block, frame, states, x0)
    frame.env.update(fr.env)
    for i, s in enumerate(states):
        interp.assign(s, x0[i] + dt * f[i], frame)


def run_derivimplicit(interp: Interpreter, block: Node, frame: Frame, dt: float,
                      iters: int = NEWTON_ITERS) -> None:
    """Backward Euler on a DERIVATIVE block, Newton iterations from the current state."""
    states = [s for s, _ in derivative_equations(block)]
    x0 = jnp.stack([jnp.asarray(interp.lookup(s, frame), dtype=jnp.float64) for s in states])

    def residual(x):
        return x - x0 - dt * _rates(interp, block, frame, states, x)[0]

    x = x0
    for _ in range(iters):
        r, jac = residual(x), jax.jacfwd(residual)(x)
        x = x - jnp.linalg.solve(jac, r)
    _, fr = _rates(interp, block, frame, states, x)
    frame.env.update(fr.env)
    for i, s in enumerate(states):
        interp.assign(s, x[i], frame)


def steady_derivimplicit(interp: Interpreter, block: Node, frame: Frame) -> None:
    """STEADYSTATE for a DERIVATIVE block: huge implicit steps."""
    for _ in range(STEADY_STEPS):
        run_derivimplicit(interp, block, frame, STEADY_DT_MS)
