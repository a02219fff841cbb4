"""One density mechanism translated to JAX: its INITIAL, BREAKPOINT currents and SOLVE.

A :class:`Mechanism` holds the parsed .mod file, the parameter values of this cell, and an
:class:`~.interp.Interpreter`. Its three methods mirror nocmodl's generated ``nrn_init``,
``nrn_cur`` and ``nrn_state`` for one compartment: ion variables are copied in from the ion
state at the start, written ion concentrations / reversal potentials are copied back at the
end, and written ion currents are added to the ion's total by the caller.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from reducer.nmodl2jax.ast_tree import Node
from reducer.nmodl2jax.continuous import (
    OdePlan,
    assigned_names,
    plan_ode,
    second_pass_needed,
)
from reducer.nmodl2jax.interp import Frame, Handlers, Interpreter
from reducer.nmodl2jax.ions import ion_field
from reducer.nmodl2jax.kinetic import KineticBlock
from reducer.nmodl2jax.modinfo import NEURON_VARS, ModInfo
from reducer.nmodl2jax.schemes import (
    cnexp_possible,
    eval_derivatives,
    run_cnexp,
    run_derivimplicit,
    run_euler,
    steady_derivimplicit,
)

jax.config.update("jax_enable_x64", True)

DERIVATIVE_METHODS = ("cnexp", "derivimplicit", "euler")
DV_MV = 0.001  # NEURON's finite-difference step for the conductance d i / d v


def names_assigned_in(*blocks: Node | None) -> set[str]:
    return set().union(*(assigned_names(b) for b in blocks))


class Mechanism:
    """A translated density mechanism with the parameter values of one cell."""

    def __init__(self, info: ModInfo, range_values: dict[str, float],
                 global_values: dict[str, float], celsius_degC: float, diam_um: float,
                 area_um2: float, dt_ms: float = 0.025, usetable: bool = False) -> None:
        self.info = info
        self.name = info.suffix
        self.ion_vars = info.ion_vars()
        self.own_currents = info.currents()
        blocks = [info.initial, info.breakpoint, *info.derivatives.values(),
                  *info.kinetics.values(), *(c.body for c in info.callables.values())]
        assigned = names_assigned_in(*blocks)
        params: dict[str, float] = {}
        for p, default in info.parameters.items():
            if p in self.ion_vars or p in NEURON_VARS:
                continue
            value = range_values.get(p, global_values.get(p, default))
            params[p] = 0.0 if value is None else float(value)
        self.param_values = params
        # Parameters a block assigns to become per-compartment variables.
        self.var_names: list[str] = []
        for name in [*info.states, *info.assigned, *[p for p in params if p in assigned]]:
            if name in self.ion_vars and name not in self.own_currents:
                continue
            if name in NEURON_VARS or name in self.var_names:
                continue
            self.var_names.append(name)
        for cur in self.own_currents:
            if cur not in self.var_names:
                self.var_names.append(cur)
        self.state_names = [s for s in info.states if s not in self.ion_vars]
        constants = {k: v for k, v in params.items() if k not in self.var_names}
        constants.update(info.constants)
        constants.update({"celsius": float(celsius_degC), "diam": float(diam_um),
                          "area": float(area_um2), "dt": float(dt_ms)})
        self.interp = Interpreter(info, constants, usetable)
        self.copy_in = [n for n in self.ion_vars if n not in self.own_currents]
        self.written_ion_vars = [w for u in info.useions for w in u.write
                                 if w not in self.own_currents]
        self.solves = self._plan_solves()

    # -- SOLVE statements ------------------------------------------------------------------
    def _plan_solves(self) -> list[tuple[str, str, str | None]]:
        info, src = self.info, self.info.source
        plan: list[tuple[str, str, str | None]] = []
        self.kinetic_blocks: dict[str, KineticBlock] = {}
        solve_nodes = [n for n in (info.breakpoint.walk() if info.breakpoint else [])
                       if n.kind == "SolveBlock"]
        init_nodes = [n for n in (info.initial.walk() if info.initial else [])
                      if n.kind == "SolveBlock"]
        for node in solve_nodes + init_nodes:
            name = node.extra["block"]
            method = node.extra["method"] or node.extra["steadystate"]
            line = src.find_line(rf"\bSOLVE\s+{name}\b")
            if name in info.derivatives:
                if method not in DERIVATIVE_METHODS:
                    raise src.error(line, f"SOLVE {name} METHOD {method}",
                                    "supported methods for DERIVATIVE blocks are cnexp, "
                                    "derivimplicit and euler")
                if method == "cnexp" and not cnexp_possible(info.derivatives[name]):
                    method = "derivimplicit"  # nocmodl does the same
                kind = "derivative"
            elif name in info.kinetics:
                if method != "sparse":
                    raise src.error(line, f"SOLVE {name} METHOD {method}",
                                    "KINETIC blocks are supported with METHOD sparse")
                if name not in self.kinetic_blocks:
                    self.kinetic_blocks[name] = KineticBlock(
                        self.interp, name, info.kinetics[name], info.states)
                kind = "kinetic"
            elif name in info.callables and not info.callables[name].is_function:
                # after_cvode: in NEURON's fixed step the PROCEDURE runs once per step in
                # nrn_state, as without a METHOD (checked in NEURON 9.0.2).
                if method not in (None, "after_cvode"):
                    raise src.error(line, f"SOLVE {name} METHOD {method}",
                                    "a PROCEDURE is SOLVEd without a METHOD or with "
                                    "METHOD after_cvode")
                kind = "procedure"
            else:
                raise src.error(line, f"SOLVE {name}", "no DERIVATIVE, KINETIC or PROCEDURE "
                                "block of that name")
            if node in solve_nodes:
                plan.append((kind, name, method))
            node.extra["plan"] = (kind, name, method)
        return plan

    def _run_solve(self, kind: str, name: str, method: str | None, frame: Frame,
                   dt: float, steady: bool = False) -> None:
        info = self.info
        if kind == "derivative":
            block = info.derivatives[name]
            if steady:
                steady_derivimplicit(self.interp, block, frame)
            elif method == "cnexp":
                run_cnexp(self.interp, block, frame, dt)
            elif method == "euler":
                run_euler(self.interp, block, frame, dt)
            else:
                run_derivimplicit(self.interp, block, frame, dt)
        elif kind == "kinetic":
            kb = self.kinetic_blocks[name]
            if steady:
                kb.steady(frame)
            else:
                kb.step(frame, dt)
        else:
            self.interp.call_user(name, [], frame)

    # -- state --------------------------------------------------------------------------------
    def initial_vars(self) -> dict[str, float]:
        """Values of the per-compartment variables before INITIAL runs."""
        out = {}
        for n in self.var_names:
            out[n] = self.param_values.get(n, 0.0)
        return out

    def _frame(self, mvars: dict, ions: dict, v, dt: float | None = None) -> Frame:
        env = dict(mvars)
        for var in self.copy_in:
            ion = self.ion_vars[var]
            env[var] = ions[ion][ion_field(var, ion)]
        env["v"] = v
        if dt is not None:
            env["dt"] = dt
        return Frame(env)

    def _split(self, frame: Frame) -> tuple[dict, dict]:
        mvars = {n: jnp.asarray(frame.env[n], dtype=jnp.float64) for n in self.var_names}
        writes = {}
        for var in self.written_ion_vars:
            ion = self.ion_vars[var]
            writes.setdefault(ion, {})[ion_field(var, ion)] = frame.env[var]
        return mvars, writes

    def init(self, ions: dict, v, dt: float) -> tuple[dict, dict]:
        """nrn_init: run INITIAL (with STEADYSTATE solves). Returns (vars, ion writes)."""
        frame = self._frame(self.initial_vars(), ions, v, dt)

        def solve(node: Node, fr: Frame) -> None:
            kind, name, method = node.extra["plan"]
            self._run_solve(kind, name, method, fr, dt, steady=node.extra["steadystate"]
                            is not None)

        self.interp.exec_block(self.info.initial, frame, Handlers(solve=solve))
        return self._split(frame)

    def _breakpoint(self, frame: Frame):
        self.interp.exec_block(self.info.breakpoint, frame, Handlers(solve=lambda n, f: None))
        total = 0.0
        for cur in self.own_currents:
            val = frame.env[cur]
            total = total - val if cur in self.info.electrode else total + val
        return total

    def _ion_currents(self, frame: Frame) -> dict:
        return {u.ion: frame.env["i" + u.ion] for u in self.info.useions
                if "i" + u.ion in u.write}

    def current(self, mvars: dict, ions: dict, v) -> tuple:
        """nrn_cur: currents at v+0.001 then at v; returns (i, g, vars, ion currents)."""
        frame = self._frame(mvars, ions, v + DV_MV)
        i_hi = self._breakpoint(frame)
        frame.env["v"] = v  # ion values are copied in once, before both calls, as in nrn_cur
        i = self._breakpoint(frame)
        g = (i_hi - i) / DV_MV
        mvars, writes = self._split(frame)
        return i, g, mvars, self._ion_currents(frame), writes

    # -- continuous time (for ODE solvers) ----------------------------------------------------
    @property
    def ode_plan(self) -> OdePlan:
        """The mechanism as an ODE; NmodlTranslationError if it is not one (see
        :func:`~.continuous.plan_ode`). Checked on first use, not at build time."""
        if not hasattr(self, "_ode_plan"):
            self._ode_plan = plan_ode(self)
        return self._ode_plan

    @property
    def second_pass(self) -> bool:
        """True if BREAKPOINT reads a value only the SOLVEd blocks compute."""
        if not hasattr(self, "_second_pass"):
            self._second_pass = second_pass_needed(self)
        return self._second_pass

    def current_at(self, mvars: dict, ions: dict, v) -> tuple:
        """BREAKPOINT once at v: (i mA/cm2, vars, ion currents, ion writes)."""
        frame = self._frame(mvars, ions, v)
        i = self._breakpoint(frame)
        mvars, writes = self._split(frame)
        return i, mvars, self._ion_currents(frame), writes

    def derivative(self, mvars: dict, ions: dict, v) -> tuple[dict, dict, dict]:
        """Right-hand sides of the SOLVEd blocks at (vars, ions, v).

        ``ions`` should carry the total ion currents of this (state, v) (what nrn_state
        reads). Returns (d var/dt for this mechanism's STATEs, {ion: {"ci"|"co": d/dt}} for
        concentration STATEs, vars after the blocks' assignments).
        """
        plan = self.ode_plan
        frame = self._frame(mvars, ions, v)
        rhs: dict[str, object] = {}
        for kind, name in plan.blocks:
            if kind == "derivative":
                new = eval_derivatives(self.interp, self.info.derivatives[name], frame)
            else:
                new = self.kinetic_blocks[name].derivatives(frame)
            for s, val in new.items():  # a state in two blocks: both contribute
                rhs[s] = rhs[s] + val if s in rhs else val
        dvars = {}
        dions: dict[str, dict] = {}
        for s, val in rhs.items():
            val = jnp.asarray(val, dtype=jnp.float64)
            if s in self.ion_vars:
                ion = self.ion_vars[s]
                dions.setdefault(ion, {})[ion_field(s, ion)] = val
            else:
                dvars[s] = val
        return dvars, dions, self._split(frame)[0]

    def advance(self, mvars: dict, ions: dict, v, dt: float) -> tuple[dict, dict]:
        """nrn_state: run the BREAKPOINT's SOLVE statements at the new v."""
        frame = self._frame(mvars, ions, v, dt)
        for kind, name, method in self.solves:
            self._run_solve(kind, name, method, frame, dt)
        return self._split(frame)
