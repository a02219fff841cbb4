"""KINETIC blocks: reaction schemes integrated with backward Euler, as NEURON's ``sparse``.

Each ``~ A + B <-> C (kf, kb)`` contributes ``kf*A*B - kb*C`` to the rates of its species,
``~ S << (flux)`` adds a flux, ``COMPARTMENT vol {S}`` makes ``vol * dS/dt = rates``, and
``CONSERVE a + b + c = total`` replaces the equation of its last state by the conservation
law (in amounts: each state times its COMPARTMENT volume, as nocmodl writes it). The step
solves ``vol*(x1 - x0)/dt = rates(x1)`` by Newton's method (one step is exact
for first-order schemes); STEADYSTATE takes huge steps of the same solver.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from reducer.nmodl2jax.ast_tree import Node
from reducer.nmodl2jax.interp import Frame, Handlers, Interpreter
from reducer.nmodl2jax.schemes import STEADY_DT_MS, STEADY_STEPS

jax.config.update("jax_enable_x64", True)

NEWTON_ITERS_NONLINEAR = 8


def _species(node: Node) -> list[tuple[str, int]]:
    """(state, stoichiometry) terms of one side of a reaction or a CONSERVE sum."""
    if node.kind == "ReactVarName":
        coef = 1
        num = node.find("Integer")
        if num is not None:
            coef = int(float(num.value))
        return [(node.find("VarName").children[0].value, coef)]
    if node.kind == "BinaryExpression" and node.children[1].value == "+":
        return _species(node.children[0]) + _species(node.children[2])
    if node.kind in ("WrappedExpression", "ParenExpression"):
        return _species(node.children[0])
    raise ValueError(node.kind)


class KineticBlock:
    """One KINETIC block analysed for its states, linearity and conservation laws."""

    def __init__(self, interp: Interpreter, name: str, block: Node, states: list[str]):
        self.interp = interp
        self.name = name
        self.block = block
        src = interp.src
        line = src.block_line("KINETIC", name)
        seen: list[str] = []
        linear = True
        for st in block.walk():
            if st.kind == "ReactionStatement":
                op = st.children[1].value
                try:
                    sides = [_species(st.children[0])]
                    if op != "<<":
                        sides.append(_species(st.children[2]))
                except ValueError as exc:
                    raise src.error(line, f"KINETIC {name} reaction",
                                    "cannot read the reaction's species") from exc
                for side in sides:
                    for s, _coef in side:
                        if s not in states:
                            raise src.error(src.word_line(s, line or 1),
                                            f"KINETIC {name} species {s}",
                                            "is not a STATE variable")
                        if s not in seen:
                            seen.append(s)
                    if len(side) > 1 or any(c != 1 for _, c in side):
                        linear = False
                rate_exprs = st.children[3:] if op != "<<" else st.children[2:]
                for e in rate_exprs:
                    if any(n.kind == "VarName" and n.children[0].value in states
                           for n in e.walk()):
                        linear = False
            elif st.kind in ("BinaryExpression",) and st.children[1].value == "=":
                if any(n.kind == "VarName" and n.children[0].value in states
                       for n in st.children[2].walk()):
                    linear = False
            elif st.kind == "FunctionCall":
                linear = False if any(
                    n.kind == "VarName" and n.children[0].value in states
                    for n in st.walk()) else linear
        if any(n.kind == "VarName" and n.children[0].value in ("f_flux", "b_flux")
               for n in block.walk()):
            raise src.error(src.word_line("f_flux") or src.word_line("b_flux"),
                            "f_flux/b_flux", "reaction flux variables are not supported")
        self.states = seen
        self.linear = linear

    def _rates(self, frame: Frame, x):
        """Rates (per unit volume-time), volumes and conservation rows at state vector x."""
        interp = self.interp
        fr = frame.copy()
        for i, s in enumerate(self.states):
            interp.assign(s, x[i], fr)
        index = {s: i for i, s in enumerate(self.states)}
        rates = [jnp.float64(0.0)] * len(self.states)
        volumes: list[object] = [1.0] * len(self.states)
        conserve: list[tuple[dict[int, float], object]] = []

        def reaction(st: Node, f: Frame) -> None:
            if st.kind == "ReactionStatement":
                op = st.children[1].value
                if op == "<<":
                    (s, _), = _species(st.children[0])
                    rates[index[s]] = rates[index[s]] + interp.eval(st.children[2], f)
                    return
                lhs, rhs = _species(st.children[0]), _species(st.children[2])
                kf = interp.eval(st.children[3], f)
                flux = kf
                for s, c in lhs:
                    flux = flux * interp.lookup(s, f) ** c if c != 1 else flux * interp.lookup(s, f)
                if op == "<->":
                    kb = interp.eval(st.children[4], f)
                    back = kb
                    for s, c in rhs:
                        back = back * interp.lookup(s, f) ** c if c != 1 else \
                            back * interp.lookup(s, f)
                    flux = flux - back
                elif op != "->":
                    raise interp.error(f"reaction operator {op}", "is not supported")
                for s, c in lhs:
                    rates[index[s]] = rates[index[s]] - c * flux
                for s, c in rhs:
                    rates[index[s]] = rates[index[s]] + c * flux
            elif st.kind == "Compartment":
                names = [c.value for c in st.children if c.kind == "Name"]
                exprs = [c for c in st.children if c.kind != "Name"]
                if len(exprs) != 1:
                    raise interp.error("COMPARTMENT", "only the scalar form "
                                       "COMPARTMENT volume {states} is supported", "COMPARTMENT")
                vol = interp.eval(exprs[0], f)
                for s in names:
                    if s in index:
                        volumes[index[s]] = vol
            elif st.kind == "Conserve":
                terms = _species(st.children[0])
                total = interp.eval(st.children[1], f)
                conserve.append(({index[s]: float(c) for s, c in terms}, total))

        interp.exec_block(self.block, fr, Handlers(reaction=reaction))
        return jnp.stack([jnp.asarray(r, dtype=jnp.float64) for r in rates]), volumes, \
            conserve, fr

    def step(self, frame: Frame, dt: float) -> None:
        """Advance the states in ``frame`` by one backward-Euler step of size ``dt``."""
        interp = self.interp
        x0 = jnp.stack([jnp.asarray(interp.lookup(s, frame), dtype=jnp.float64)
                        for s in self.states])
        _, _, conserve, _ = self._rates(frame, x0)
        replaced = [max(rows) for rows, _ in conserve]

        def residual(x):
            rates, vols, cons, _ = self._rates(frame, x)
            vol = jnp.stack([jnp.asarray(v, dtype=jnp.float64) for v in vols])
            r = vol * (x - x0) / dt - rates
            for (rows, total), k in zip(cons, replaced, strict=True):
                # nocmodl weights the conserved sum by the COMPARTMENT volumes
                r = r.at[k].set(sum(c * vol[i] * x[i] for i, c in rows.items()) - total)
            return r

        x = x0
        for _ in range(1 if self.linear else NEWTON_ITERS_NONLINEAR):
            x = x - jnp.linalg.solve(jax.jacfwd(residual)(x), residual(x))
        _, _, _, fr = self._rates(frame, x)
        frame.env.update(fr.env)
        for i, s in enumerate(self.states):
            interp.assign(s, x[i], frame)

    def derivatives(self, frame: Frame) -> dict[str, object]:
        """d(state)/dt of the scheme at the frame's current values: the mass-action rates
        divided by each state's COMPARTMENT volume. As in ``step``, a CONSERVE law replaces
        the equation of its last state: that state's derivative is the one that keeps the
        volume-weighted sum constant (the same as the rates' when the scheme conserves).
        The block's assignments take effect on ``frame``."""
        x = jnp.stack([jnp.asarray(self.interp.lookup(s, frame), dtype=jnp.float64)
                       for s in self.states])
        rates, volumes, conserve, fr = self._rates(frame, x)
        frame.env.update(fr.env)
        d = [rates[i] / volumes[i] for i in range(len(self.states))]
        for rows, _total in conserve:
            k = max(rows)
            others = sum(c * volumes[i] * d[i] for i, c in rows.items() if i != k)
            d[k] = -others / (rows[k] * volumes[k])
        return {s: d[i] for i, s in enumerate(self.states)}

    def steady(self, frame: Frame) -> None:
        """STEADYSTATE sparse as scopmath's _ss_sparse: one backward-Euler step of 1e9 ms
        from the states' start values (0) for a linear scheme, repeated for a nonlinear one."""
        for _ in range(1 if self.linear else STEADY_STEPS):
            self.step(frame, STEADY_DT_MS)
