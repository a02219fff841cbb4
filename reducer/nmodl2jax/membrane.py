"""All soma mechanisms together: NEURON's finitialize / nrn_cur / nrn_state for one compartment.

:func:`build_membrane` translates every mechanism of a soma description (from
:func:`~.describe.describe_soma`) and returns a :class:`Membrane` whose ``init``,
``current`` and ``advance`` are pure functions of a pytree state (dict of float64 arrays),
so they can be jitted, scanned, vmapped and differentiated.

Order follows NEURON: ion mechanisms first (ion_init / ion_cur), then the density
mechanisms in NEURON's mechanism-type order, which matters when one mechanism reads what
another wrote in the same phase (e.g. a Ca-activated channel reading ``cai`` updated by a
concentration mechanism).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from reducer.errors import NmodlTranslationError
from reducer.nmodl2jax.ions import CINIT, EADVANCE, EINIT, ion_field, nernst_mV
from reducer.nmodl2jax.mechanism import Mechanism
from reducer.nmodl2jax.modinfo import BUILTIN_MECHANISMS, builtin_mod_path, read_mod

jax.config.update("jax_enable_x64", True)

# Defaults NEURON uses when a constant is missing from a description.
GAS_CONSTANT = 8.31446261815324
FARADAY = 96485.33212331001

State = dict[str, Any]

# NEURON's defaults (erev mV, ci mM, co mM, charge) for values a description leaves out.
_ION_DEFAULTS = {"na": (50.0, 10.0, 140.0, 1.0), "k": (-77.0, 54.4, 2.5, 1.0),
                 "ca": (132.4579341637009, 5e-5, 2.0, 2.0)}


class Membrane:
    """The soma's mechanisms as pure JAX functions (see module docstring)."""

    def __init__(self, mechanisms: list[Mechanism], ions: dict[str, dict[str, float]],
                 ion_styles: dict[str, int], ion_charges: dict[str, float],
                 ion_init_conc: dict[str, tuple[float, float]], celsius_degC: float,
                 gas_R: float = GAS_CONSTANT, faraday: float = FARADAY,
                 dt_ms: float = 0.025) -> None:
        self.mechanisms = mechanisms
        self.ion_values = ions
        self.ion_styles = ion_styles
        self.ion_charges = ion_charges
        self.ion_init_conc = ion_init_conc
        self.celsius_degC = celsius_degC
        self.gas_R = gas_R
        self.faraday = faraday
        self.dt_ms = dt_ms

    @property
    def names(self) -> list[str]:
        """Mechanism names in NEURON's order."""
        return [m.name for m in self.mechanisms]

    def _nernst(self, ion: str, ci, co):
        return nernst_mV(ci, co, self.ion_charges[ion], self.celsius_degC, self.gas_R,
                         self.faraday)

    def _apply_writes(self, ions: dict, writes: dict) -> None:
        for ion, fields in writes.items():
            ions[ion] = dict(ions[ion])
            ions[ion].update(fields)
            if ("ci" in fields or "co" in fields) and self.ion_styles.get(ion, 0) & EINIT:
                ions[ion]["e"] = self._nernst(ion, ions[ion]["ci"], ions[ion]["co"])

    def init(self, v_mV, dt_ms: float | None = None) -> State:
        """Like ``finitialize(v)``: ion_init, then every mechanism's INITIAL block."""
        dt = self.dt_ms if dt_ms is None else dt_ms
        v = jnp.asarray(v_mV, dtype=jnp.float64)
        ions: dict[str, dict] = {}
        for ion, vals in self.ion_values.items():
            style = self.ion_styles.get(ion, 0)
            ci, co = vals["ci"], vals["co"]
            if style & CINIT:
                ci, co = self.ion_init_conc[ion]
            e = vals["e"]
            if style & EINIT:
                e = self._nernst(ion, ci, co)
            ions[ion] = {"e": e, "ci": ci, "co": co, "cur": 0.0}
        mechs: dict[str, dict] = {}
        for mech in self.mechanisms:
            mvars, writes = mech.init(ions, v, dt)
            mechs[mech.name] = mvars
            self._apply_writes(ions, writes)
        state = {"ions": ions, "mechs": mechs}
        return jax.tree_util.tree_map(
            lambda x: jnp.broadcast_to(jnp.asarray(x, dtype=jnp.float64), v.shape), state)

    def current(self, state: State, v_mV) -> tuple[Any, Any, State]:
        """Like nrn_cur: (total ionic current mA/cm2 positive outward, d i/d v S/cm2, state)."""
        ions = {}
        for ion, vals in state["ions"].items():
            vals = dict(vals)
            vals["cur"] = jnp.zeros_like(vals["cur"])
            if self.ion_styles.get(ion, 0) & EADVANCE:
                vals["e"] = self._nernst(ion, vals["ci"], vals["co"])
            ions[ion] = vals
        mechs = dict(state["mechs"])
        i_total = jnp.zeros_like(jnp.asarray(v_mV, dtype=jnp.float64))
        g_total = jnp.zeros_like(i_total)
        for mech in self.mechanisms:
            i, g, mvars, ion_cur, writes = mech.current(mechs[mech.name], ions, v_mV)
            i_total = i_total + i
            g_total = g_total + g
            mechs[mech.name] = mvars
            for ion, cur in ion_cur.items():
                ions[ion] = dict(ions[ion])
                ions[ion]["cur"] = ions[ion]["cur"] + cur
            self._apply_writes(ions, writes)
        return i_total, g_total, _as_f64({"ions": ions, "mechs": mechs}, i_total)

    def advance(self, state: State, v_mV, dt_ms: float) -> State:
        """Like nrn_state: every mechanism's SOLVE at the new voltage, in NEURON's order."""
        ions = {k: dict(v) for k, v in state["ions"].items()}
        mechs = dict(state["mechs"])
        for mech in self.mechanisms:
            if not mech.solves:
                continue
            mvars, writes = mech.advance(mechs[mech.name], ions, v_mV, dt_ms)
            mechs[mech.name] = mvars
            self._apply_writes(ions, writes)
        return _as_f64({"ions": ions, "mechs": mechs}, jnp.asarray(v_mV))


    # -- continuous time (for ODE solvers) --------------------------------------------------
    def _continuous_ions(self, state: State) -> dict:
        """Ion values at an instant: currents zeroed (to be summed), erev by Nernst where the
        style keeps it so (at every nrn_cur, or after every write of a concentration)."""
        ions = {}
        for ion, vals in state["ions"].items():
            vals = dict(vals)
            vals["cur"] = jnp.zeros_like(vals["cur"])
            if self.ion_styles.get(ion, 0) & (EINIT | EADVANCE):
                vals["e"] = self._nernst(ion, vals["ci"], vals["co"])
            ions[ion] = vals
        return ions

    def _breakpoints(self, ions0: dict, mechs: dict, v) -> tuple[Any, dict, dict]:
        """Every BREAKPOINT once at v (no finite difference): (i mA/cm2, ions with summed
        currents, vars)."""
        ions = {k: dict(val) for k, val in ions0.items()}
        mechs = dict(mechs)
        i_total = jnp.zeros_like(jnp.asarray(v, dtype=jnp.float64))
        for mech in self.mechanisms:
            i, mvars, ion_cur, writes = mech.current_at(mechs[mech.name], ions, v)
            i_total = i_total + i
            mechs[mech.name] = mvars
            for ion, cur in ion_cur.items():
                ions[ion]["cur"] = ions[ion]["cur"] + cur
            self._apply_writes(ions, writes)
        return i_total, ions, mechs

    def ode_mask(self) -> State:
        """Which leaves of the state are ODE states (True) and which are values computed from
        them or constants (False): the mechanisms' STATEs and the concentrations that
        concentration mechanisms integrate.

        Raises:
            NmodlTranslationError: a mechanism is not an ODE (see :meth:`derivative`).
        """
        conc = {}
        for mech in self.mechanisms:
            for s in mech.ode_plan.states:
                if s in mech.ion_vars:
                    ion = mech.ion_vars[s]
                    conc.setdefault(ion, set()).add(ion_field(s, ion))
        ions = {ion: {f: f in conc.get(ion, ()) for f in ("e", "ci", "co", "cur")}
                for ion in self.ion_values}
        mechs = {m.name: {n: n in m.ode_plan.states for n in m.var_names}
                 for m in self.mechanisms}
        return {"ions": ions, "mechs": mechs}

    def rhs(self, state: State, v_mV) -> tuple[Any, State]:
        """The membrane in continuous time at (state, v): (ionic current density mA/cm2,
        positive outward; d state/dt with zeros where a leaf is not an ODE state).

        Every BREAKPOINT is evaluated once at v (its currents summed into the ions), then the
        right-hand side of every SOLVEd DERIVATIVE (as written, whatever its METHOD) or
        KINETIC block (mass action over COMPARTMENT volumes) with those ion currents, as
        nrn_state reads them. Where a BREAKPOINT reads a value only the SOLVEd blocks compute,
        both are evaluated twice so that the value belongs to this (state, v).

        Raises:
            NmodlTranslationError: a mechanism is not an ODE (SOLVE of a PROCEDURE, STATE set
                only by STEADYSTATE or by assignment); the message names file, line and
                construct. The fixed-step ``current``/``advance`` work for such mechanisms.
        """
        v = jnp.asarray(v_mV, dtype=jnp.float64)
        for mech in self.mechanisms:
            mech.ode_plan  # noqa: B018 -- raises for a mechanism that is not an ODE
        ions0 = self._continuous_ions(state)
        mechs = dict(state["mechs"])
        d_ions: dict[str, dict] = {}
        d_mechs: dict[str, dict] = {}
        for _ in range(2 if any(m.second_pass for m in self.mechanisms) else 1):
            i_total, ions, mechs = self._breakpoints(ions0, mechs, v)
            d_ions, d_mechs = {}, {}
            for mech in self.mechanisms:
                if not mech.solves:
                    continue
                dvars, dconc, mechs[mech.name] = mech.derivative(mechs[mech.name], ions, v)
                d_mechs[mech.name] = dvars
                for ion, fields in dconc.items():
                    for f, val in fields.items():
                        prev = d_ions.setdefault(ion, {}).get(f)
                        d_ions[ion][f] = val if prev is None else prev + val
        dstate = jax.tree_util.tree_map(jnp.zeros_like, _as_f64(state, v))
        for ion, fields in d_ions.items():
            dstate["ions"][ion].update(fields)
        for name, dvars in d_mechs.items():
            dstate["mechs"][name].update(dvars)
        return i_total, _as_f64(dstate, v)

    def derivative(self, state: State, v_mV) -> State:
        """d state/dt at (state, v): same pytree as ``state``, zeros for leaves that are not
        ODE states. See :meth:`rhs` (which also returns the current) for what is evaluated.

        Raises:
            NmodlTranslationError: a mechanism is not an ODE (see :meth:`rhs`).
        """
        return self.rhs(state, v_mV)[1]

    def current_density(self, state: State, v_mV):
        """Total ionic current density (mA/cm2, positive outward) at (state, v): every
        BREAKPOINT once at v, without nrn_cur's finite difference or step bookkeeping."""
        if any(m.second_pass for m in self.mechanisms):
            return self.rhs(state, v_mV)[0]
        v = jnp.asarray(v_mV, dtype=jnp.float64)
        return self._breakpoints(self._continuous_ions(state), state["mechs"], v)[0]


def _as_f64(state: State, like) -> State:
    shape = jnp.shape(like)
    return jax.tree_util.tree_map(
        lambda x: jnp.broadcast_to(jnp.asarray(x, dtype=jnp.float64), shape), state)


def build_membrane(desc: dict) -> Membrane:
    """Translate every mechanism of a soma description into a :class:`Membrane`.

    Raises:
        NmodlTranslationError: a .mod file uses a construct that cannot be translated
            (the message names file, line and construct).
    """
    celsius = float(desc["celsius_degC"])
    area = float(desc["area_um2"])
    diam = float(desc.get("diam_um", (area / jnp.pi) ** 0.5))
    consts = desc.get("constants", {})
    mechanisms = []
    for m in desc["mechanisms"]:
        path = m.get("mod_file")
        if path is None:
            if m["name"] not in BUILTIN_MECHANISMS:
                raise NmodlTranslationError(
                    f"mechanism {m['name']}: no .mod file was given for it and it is not a "
                    "NEURON built-in the translator knows (hh, pas); add its .mod file")
            path = builtin_mod_path(m["name"])
        info = read_mod(Path(path))
        if info.suffix != m["name"]:
            raise NmodlTranslationError(
                f"{path}: SUFFIX {info.suffix} does not match mechanism name {m['name']}")
        if not (info.nonspecific or info.electrode or any(u.write for u in info.useions)):
            # Writes no current and no ion (a recorder such as a peak-voltage tracker):
            # it cannot change the soma's voltage, so the translation leaves it out.
            continue
        mechanisms.append(Mechanism(info, m.get("range", {}), m.get("global", {}), celsius,
                                    diam, area, float(desc.get("dt_ms", 0.025)),
                                    usetable=bool(m.get("usetable", 0.0))))
    ions = {}
    styles = {}
    charges = {}
    init_conc = {}
    for ion, vals in desc.get("ions", {}).items():
        e0, ci0, co0, z0 = _ION_DEFAULTS.get(ion, (0.0, 1.0, 1.0, 1.0))
        ci, co = float(vals.get(ion + "i", ci0)), float(vals.get(ion + "o", co0))
        ions[ion] = {"e": float(vals.get("e" + ion, e0)), "ci": ci, "co": co}
        st = desc.get("ion_styles", {}).get(ion, {})
        styles[ion] = int(st.get("style", 0))
        charges[ion] = float(st.get("charge", z0))
        init_conc[ion] = (float(st.get("ci0", ci)), float(st.get("co0", co)))
    for mech in mechanisms:
        for u in mech.info.useions:
            if u.ion not in ions:
                raise NmodlTranslationError(
                    f"{mech.info.path}: USEION {u.ion}: the soma description has no values "
                    f"for ion {u.ion}; describe the soma with describe_soma()")
    membrane = Membrane(mechanisms, ions, styles, charges, init_conc, celsius,
                        float(consts.get("R", GAS_CONSTANT)),
                        float(consts.get("FARADAY", FARADAY)), float(desc.get("dt_ms", 0.025)))
    _trace_once(membrane)
    return membrane


def _trace_once(membrane: Membrane) -> None:
    """Trace init/current/advance abstractly (no arithmetic) so that every construct met
    while evaluating the blocks is checked now, before any training starts."""

    def one_step(v):
        state = membrane.init(v)
        _, _, state = membrane.current(state, v)
        return membrane.advance(state, v, membrane.dt_ms)

    jax.eval_shape(one_step, jax.ShapeDtypeStruct((), jnp.float64))
