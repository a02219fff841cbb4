"""Evaluate NMODL statements and expressions as JAX operations.

The translator walks a block's AST once, at JAX trace time, building the same arithmetic
NEURON's generated C performs; under ``jax.jit`` no Python runs per step. ``if``/``else``
on traced values evaluates both branches and merges assigned variables with ``jnp.where``;
loops need bounds known at translation time and are unrolled.
"""

from __future__ import annotations

import math
from collections.abc import Callable as TCallable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from reducer.errors import NmodlTranslationError
from reducer.nmodl2jax.ast_tree import Node
from reducer.nmodl2jax.modinfo import ModInfo
from reducer.nmodl2jax.unsupported import empty_verbatim, trailing_return_verbatim

jax.config.update("jax_enable_x64", True)

Value = Any  # python float / bool or a jax array


def hoc_exp(x: Value) -> Value:
    """NEURON's ``exp`` in mod files (hoc_Exp): 0 below -700, capped at exp(700) above."""
    x = jnp.asarray(x, dtype=jnp.float64)
    return jnp.where(x < -700.0, 0.0, jnp.exp(jnp.minimum(x, 700.0)))


def _pow(a: Value, b: Value) -> Value:
    if isinstance(b, float | int) and float(b).is_integer() and abs(b) <= 64:
        n = int(b)
        if n >= 0:
            return jax.lax.integer_pow(jnp.asarray(a, dtype=jnp.float64), n)
        return 1.0 / jax.lax.integer_pow(jnp.asarray(a, dtype=jnp.float64), -n)
    return jnp.power(a, b)


BUILTINS: dict[str, TCallable[..., Value]] = {
    "exp": hoc_exp, "log": jnp.log, "log10": jnp.log10, "sqrt": jnp.sqrt, "fabs": jnp.abs,
    "pow": _pow, "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "asin": jnp.arcsin,
    "acos": jnp.arccos, "atan": jnp.arctan, "atan2": jnp.arctan2, "sinh": jnp.sinh,
    "cosh": jnp.cosh, "tanh": jnp.tanh, "floor": jnp.floor, "ceil": jnp.ceil,
    "fmod": jnp.fmod, "fmin": jnp.minimum, "fmax": jnp.maximum, "erf": jax.scipy.special.erf,
    "erfc": jax.scipy.special.erfc, "expm1": jnp.expm1, "log1p": jnp.log1p,
}
BUILTIN_CONSTANTS = {"PI": math.pi, "FARADAY": 96485.33212331001, "R": 8.31446261815324,
                     "E": math.e}
_STOCHASTIC = {"scop_random", "normrand", "exprand", "unirand", "set_seed",
               "poisrand", "erand", "random_pick", "nrn_random_pick", "net_send", "net_event",
               "net_move", "at_time", "state_discontinuity", "nrn_pointing", "printf"}


def is_concrete(x: Value) -> bool:
    """True if ``x`` is known at trace time (a Python/numpy scalar, not a tracer)."""
    return isinstance(x, bool | int | float | np.bool_ | np.floating | np.integer)


@dataclass
class Frame:
    """Variables visible while executing a block: mechanism variables and a local scope."""

    env: dict[str, Value]
    local: dict[str, Value] = field(default_factory=dict)
    override: dict[str, Value] = field(default_factory=dict)

    def copy(self) -> Frame:
        return Frame(dict(self.env), dict(self.local), dict(self.override))


@dataclass
class Handlers:
    """Callbacks for statements whose meaning depends on the block (scheme) being run."""

    diffeq: TCallable[[str, Node, Frame], None] | None = None
    reaction: TCallable[[Node, Frame], None] | None = None
    solve: TCallable[[Node, Frame], None] | None = None


class Interpreter:
    """Executes the blocks of one mechanism on :class:`Frame` objects."""

    def __init__(self, info: ModInfo, constants: dict[str, float],
                 usetable: bool = False) -> None:
        self.info = info
        self.src = info.source
        self.constants = dict(BUILTIN_CONSTANTS)
        self.constants.update(constants)
        self.usetable = usetable
        self._depth = 0
        self._tables: dict[str, tuple] = {}

    # -- errors --------------------------------------------------------------------
    def error(self, construct: str, what: str, word: str | None = None):
        line = self.src.word_line(word) if word else None
        return self.src.error(line, construct, what)

    # -- names -----------------------------------------------------------------------
    def lookup(self, name: str, frame: Frame) -> Value:
        if name in frame.override:
            return frame.override[name]
        if name in frame.local:
            return frame.local[name]
        if name in frame.env:
            return frame.env[name]
        if name in self.constants:
            return self.constants[name]
        if name == "t":
            raise self.error("variable t", "mechanisms that depend on simulation time t are "
                             "not supported in the translation", "t")
        raise self.error(f"variable {name}", "is not declared (PARAMETER, ASSIGNED, STATE, "
                         "LOCAL, CONSTANT or USEION); declare it", name)

    def assign(self, name: str, value: Value, frame: Frame) -> None:
        if hasattr(value, "dtype") and value.dtype == jnp.bool_:
            value = jnp.asarray(value, dtype=jnp.float64)
        elif isinstance(value, bool | np.bool_):
            value = float(value)
        if name in frame.local:
            frame.local[name] = value
        elif name in frame.env:
            frame.env[name] = value
        else:
            raise self.error(f"assignment to {name}", "the translator does not know where "
                             f"{name} lives; declare it ASSIGNED, STATE or LOCAL", name)

    # -- expressions ---------------------------------------------------------------------
    def eval(self, node: Node, frame: Frame) -> Value:
        k = node.kind
        if k in ("Integer", "Double", "Float"):
            return float(node.value)
        if k in ("WrappedExpression", "ParenExpression"):
            return self.eval(node.children[0], frame)
        if k == "VarName":
            child = node.children[0]
            if child.kind != "Name":
                raise self.error(f"{child.kind} reference", "is not supported")
            return self.lookup(child.value, frame)
        if k == "Name":
            return self.lookup(node.value, frame)
        if k == "BinaryExpression":
            op = node.children[1].value
            a = self.eval(node.children[0], frame)
            b = self.eval(node.children[2], frame)
            return _binary(op, a, b)
        if k == "UnaryExpression":
            op = node.children[0].value
            a = self.eval(node.children[1], frame)
            if op == "-":
                return -a
            if op == "!":
                return (not a) if is_concrete(a) else jnp.logical_not(a)
            raise self.error(f"operator {op}", "unknown unary operator")
        if k == "FunctionCall":
            return self.call(node, frame)
        if k == "DoubleUnit":
            return self.eval(node.children[0], frame)
        raise self.error(f"expression {k}", "is not supported by the translator")

    def call(self, node: Node, frame: Frame) -> Value:
        name = node.children[0].value
        args = [self.eval(a, frame) for a in node.children[1:]]
        if name in self.info.callables:
            return self.call_user(name, args, frame)
        if name in BUILTINS:
            return BUILTINS[name](*args)
        if name in _STOCHASTIC:
            raise self.error(f"call {name}()", "random numbers, events and printing are not "
                             "supported in a deterministic JAX translation", name)
        raise self.error(f"call {name}()", "unknown function; define it as a FUNCTION in "
                         "the file", name)

    def call_user(self, name: str, args: list[Value], frame: Frame,
                  direct: bool = False) -> Value:
        fn = self.info.callables[name]
        if len(args) != len(fn.args):
            raise self.error(f"call {name}()", f"takes {len(fn.args)} arguments, "
                             f"got {len(args)}", name)
        if self.usetable and not direct:
            table = self._table_of(name, frame)
            if table is not None:
                return self._lookup_table(name, table, args[0], frame)
        self._depth += 1
        if self._depth > 50:
            raise self.error(f"call {name}()", "recursion is not supported", name)
        local = dict(zip(fn.args, args, strict=True))
        if fn.is_function:
            local[name] = 0.0
        inner = Frame(frame.env, local, {})
        self.exec_block(fn.body, inner, Handlers())
        self._depth -= 1
        return inner.local[name] if fn.is_function else 0.0

    # -- TABLE (NEURON's linear interpolation, used where usetable_<suffix> = 1) ------------
    def _table_of(self, name: str, frame: Frame):
        """The tabulated values of FUNCTION/PROCEDURE ``name``, built as nocmodl's
        ``_check_<name>`` does (grid by repeated ``x += dx``), or None without a TABLE."""
        if name in self._tables:
            return self._tables[name]
        fn = self.info.callables[name]
        stmt = next((st for st in fn.body.children if st.kind == "TableStatement"), None)
        if stmt is None or not stmt.extra.get("has_range") or len(fn.args) != 1:
            self._tables[name] = None
            return None
        # Build once from constants (outside any trace); a table whose body reads
        # per-compartment variables is rebuilt from their current values at each trace.
        concrete = Frame({k: v for k, v in frame.env.items() if is_concrete(v)})
        for out in stmt.extra["table_vars"]:  # written by the body, never read before
            concrete.env.setdefault(out, 0.0)
        try:
            with jax.ensure_compile_time_eval():
                table = self._build_table(name, fn, stmt, concrete)
            self._tables[name] = table
            return table
        except NmodlTranslationError:
            return self._build_table(name, fn, stmt, frame)

    def _build_table(self, name: str, fn, stmt: Node, frame: Frame):
        lo, hi, n = (float(self.eval(e, frame)) for e in stmt.children[-3:])
        n = int(n)
        dx = (hi - lo) / n
        grid, x = [], lo
        for _ in range(n + 1):
            grid.append(x)
            x += dx
        outs = [name] if fn.is_function else list(stmt.extra["table_vars"])
        values: dict[str, list] = {o: [] for o in outs}
        for xg in grid:
            f = Frame(dict(frame.env), {}, {})
            res = self.call_user(name, [xg], f, direct=True)
            for o in outs:
                values[o].append(res if o == name and fn.is_function else f.env[o])
        tables = {o: jnp.stack([jnp.asarray(v, dtype=jnp.float64) for v in vals])
                  for o, vals in values.items()}
        # What the body writes besides the table's outputs keeps, in NEURON, the value of the
        # last grid point it was built at: old Mainen-style channels set their GLOBAL `tadj`
        # only inside a tabulated trates(), and use it in BREAKPOINT (Hu et al. 2009).
        side = {k: v for k, v in f.env.items()
                if k not in outs and (k not in frame.env or v is not frame.env[k])}
        return (lo, 1.0 / dx, n, tables, side)

    def _lookup_table(self, name: str, table, x: Value, frame: Frame) -> Value:
        tmin, mfac, n, tables, side = table
        for var, val in side.items():
            self.assign(var, val, frame)
        xi = mfac * (jnp.asarray(x, dtype=jnp.float64) - tmin)
        i = jnp.clip(jnp.floor(xi), 0, n - 1).astype(jnp.int32)
        theta = xi - i
        result: Value = 0.0
        for out, t in tables.items():
            val = t[i] + theta * (t[i + 1] - t[i])
            val = jnp.where(xi <= 0.0, t[0], jnp.where(xi >= n, t[n], val))
            if out == name and self.info.callables[name].is_function:
                result = val
            else:
                self.assign(out, val, frame)
        return result

    # -- statements ----------------------------------------------------------------------
    def exec_block(self, block: Node | None, frame: Frame, handlers: Handlers) -> None:
        if block is None:
            return
        for st in block.children:
            self.exec_stmt(st, frame, handlers)

    def exec_stmt(self, st: Node, frame: Frame, h: Handlers) -> None:
        k = st.kind
        if k in ("ExpressionStatement", "WrappedExpression"):
            self.exec_stmt(st.children[0], frame, h)
        elif k == "BinaryExpression" and st.children[1].value == "=":
            target = st.children[0]
            if target.kind != "VarName" or target.children[0].kind != "Name":
                raise self.error("assignment", "only scalar variables can be assigned")
            self.assign(target.children[0].value, self.eval(st.children[2], frame), frame)
        elif k == "FunctionCall":
            self.call(st, frame)
        elif k == "LocalListStatement":
            for var in st.children:
                frame.local[var.name] = 0.0
        elif k == "IfStatement":
            self.exec_if(st, frame, h)
        elif k == "FromStatement":
            self.exec_from(st, frame, h)
        elif k == "WhileStatement":
            self.exec_while(st, frame, h)
        elif k == "StatementBlock":
            self.exec_block(st, frame, h)
        elif k == "DiffEqExpression":
            if h.diffeq is None:
                raise self.error("derivative equation", "x' = ... is only allowed in a "
                                 "DERIVATIVE block")
            lhs = st.children[0].children[0]
            prime = lhs.children[0]
            state = prime.children[0].value
            order = int(prime.children[1].value) if len(prime.children) > 1 else 1
            if order != 1:
                raise self.error(f"{state}'' (higher derivative)", "only first-order "
                                 "derivatives are supported", state)
            h.diffeq(state, st.children[0].children[2], frame)
        elif k in ("ReactionStatement", "Conserve", "Compartment"):
            if h.reaction is None:
                raise self.error(k, "kinetic statements are only allowed in a KINETIC block")
            h.reaction(st, frame)
        elif k == "SolveBlock":
            if h.solve is None:
                raise self.error("SOLVE", "only allowed in BREAKPOINT and INITIAL", "SOLVE")
            h.solve(st, frame)
        elif k == "ProtectStatement":
            self.exec_stmt(st.children[0], frame, h)
        elif k in ("TableStatement", "UnitState", "LineComment", "BlockComment", "#",
                   "MutexLock", "MutexUnlock", "ConductanceHint", "Verbatim_ignored"):
            return  # TABLE: evaluated directly; the rest have no numeric effect
        elif k == "Verbatim" and (trailing_return_verbatim(st) or empty_verbatim(st)):
            return  # `return 0;` ending a PROCEDURE, or only comments (check_supported)
        else:
            raise self.error(f"statement {k}", "is not supported by the translator")

    def exec_if(self, st: Node, frame: Frame, h: Handlers) -> None:
        cond_node, then_block = st.children[0], st.children[1]
        rest = st.children[2:]
        cond = self.eval(cond_node, frame)

        def run_else(fr: Frame) -> None:
            if not rest:
                return
            first = rest[0]
            if first.kind == "ElseIfStatement":
                nested = Node("IfStatement", [first.children[0], first.children[1]] + rest[1:])
                self.exec_if(nested, fr, h)
            elif first.kind == "ElseStatement":
                self.exec_block(first.children[0], fr, h)

        if is_concrete(cond):
            if bool(cond):
                self.exec_block(then_block, frame, h)
            else:
                run_else(frame)
            return
        a, b = frame.copy(), frame.copy()
        self.exec_block(then_block, a, h)
        run_else(b)
        for scope in ("env", "local"):
            base = getattr(frame, scope)
            sa, sb = getattr(a, scope), getattr(b, scope)
            for key in list(base):
                va, vb = sa.get(key, base[key]), sb.get(key, base[key])
                if va is vb:
                    base[key] = va
                else:
                    base[key] = jnp.where(cond, va, vb)

    def exec_from(self, st: Node, frame: Frame, h: Handlers) -> None:
        var = st.children[0].value
        exprs = st.children[1:-1]
        body = st.children[-1]
        lo, hi = self.eval(exprs[0], frame), self.eval(exprs[1], frame)
        step = self.eval(exprs[2], frame) if len(exprs) > 2 else 1.0
        if not (is_concrete(lo) and is_concrete(hi) and is_concrete(step)):
            raise self.error("FROM loop", "loop bounds must be constants or parameters",
                             "FROM")
        had = var in frame.local
        i = int(lo)
        while (step > 0 and i <= int(hi)) or (step < 0 and i >= int(hi)):
            frame.local[var] = float(i)
            self.exec_block(body, frame, h)
            i += int(step)
        if not had:
            frame.local.pop(var, None)

    def exec_while(self, st: Node, frame: Frame, h: Handlers) -> None:
        for _ in range(10000):
            cond = self.eval(st.children[0], frame)
            if not is_concrete(cond):
                raise self.error("WHILE loop", "the loop condition depends on the state or "
                                 "voltage; such loops cannot be traced by JAX", "WHILE")
            if not cond:
                return
            self.exec_block(st.children[1], frame, h)
        raise self.error("WHILE loop", "did not terminate", "WHILE")


def _binary(op: str, a: Value, b: Value) -> Value:
    concrete = is_concrete(a) and is_concrete(b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b if not concrete else (a / b if b != 0 else math.copysign(math.inf, a))
    if op == "^":
        return _pow(a, b)
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    if op == ">=":
        return a >= b
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "&&":
        return (bool(a) and bool(b)) if concrete else jnp.logical_and(a, b)
    if op == "||":
        return (bool(a) or bool(b)) if concrete else jnp.logical_or(a, b)
    raise ValueError(f"unknown operator {op}")
