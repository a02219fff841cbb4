"""A mechanism in continuous time: which STATEs form an ODE, and its right-hand side.

NEURON's fixed step applies a scheme (cnexp, derivimplicit, euler, sparse) to the equations
a DERIVATIVE or KINETIC block states. An adaptive ODE solver needs the equations themselves:
``x' = f`` as written (DERIVATIVE, whatever its METHOD) and the mass-action rates divided by
the COMPARTMENT volumes (KINETIC; a CONSERVE law holds by itself when the rates conserve).

:func:`plan_ode` decides, from the parsed file alone, whether a mechanism *is* an ODE: every
STATE must be integrated by a DERIVATIVE or KINETIC block SOLVEd in BREAKPOINT, and nothing
may overwrite a STATE (or a written concentration) in discrete steps. It raises
:class:`~reducer.errors.NmodlTranslationError` naming file, line and construct otherwise.
It is asked for only when a derivative is requested, so such mechanisms keep working in the
fixed-step simulator.

:func:`second_pass_needed` finds mechanisms whose BREAKPOINT reads a value that only a SOLVEd
block computes (e.g. an instantaneous ``minf`` set by ``rates(v)`` inside the DERIVATIVE
block): in NEURON that value is the one of the last ``nrn_state``; in continuous time it is
the value at the current (state, v), so the evaluation runs BREAKPOINT and the blocks twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from reducer.nmodl2jax.ast_tree import Node


@dataclass(frozen=True)
class OdePlan:
    """The blocks SOLVEd in BREAKPOINT, in order: (kind, name) with kind 'derivative' or
    'kinetic', and the STATEs they integrate."""

    blocks: tuple[tuple[str, str], ...]
    states: tuple[str, ...]


def assigned_names(block: Node | None) -> set[str]:
    """Names assigned with ``=`` anywhere in ``block``."""
    out: set[str] = set()
    if block is None:
        return out
    for n in block.walk():
        if n.kind == "BinaryExpression" and len(n.children) == 3 \
                and n.children[1].value == "=" and n.children[0].kind == "VarName" \
                and n.children[0].children[0].kind == "Name":  # not x' (a PrimeName)
            out.add(n.children[0].children[0].value)
    return out


def _read_names(block: Node | None) -> set[str]:
    if block is None:
        return set()
    return {n.children[0].value for n in block.walk()
            if n.kind == "VarName" and n.children and n.children[0].kind == "Name"}


def _called(block: Node | None) -> set[str]:
    if block is None:
        return set()
    return {n.children[0].value for n in block.walk() if n.kind == "FunctionCall"}


def reachable_callables(info, blocks: list[Node | None]) -> list[str]:
    """FUNCTIONs/PROCEDUREs called from ``blocks``, directly or through each other."""
    todo = set().union(*(_called(b) for b in blocks)) if blocks else set()
    seen: list[str] = []
    while todo:
        name = todo.pop()
        if name in seen or name not in info.callables:
            continue
        seen.append(name)
        todo |= _called(info.callables[name].body)
    return seen


def _solved_bodies(mech) -> list[Node]:
    info = mech.info
    bodies = []
    for kind, name, _ in mech.solves:
        if kind == "derivative":
            bodies.append(info.derivatives[name])
        elif kind == "kinetic":
            bodies.append(info.kinetics[name])
        else:
            bodies.append(info.callables[name].body)
    return bodies


def plan_ode(mech) -> OdePlan:
    """The continuous-time form of ``mech`` (a :class:`~.mechanism.Mechanism`).

    Raises:
        NmodlTranslationError: the mechanism's states are not governed by differential
            equations (SOLVE of a PROCEDURE, STATE set only by STEADYSTATE or by
            assignment, a concentration written by assignment inside a SOLVEd block).
    """
    from reducer.nmodl2jax.schemes import derivative_equations

    info, src = mech.info, mech.info.source
    blocks: list[tuple[str, str]] = []
    governed: list[str] = []
    for kind, name, method in mech.solves:
        line = src.find_line(rf"\bSOLVE\s+{name}\b")
        if kind == "procedure":
            how = f" METHOD {method}" if method else ""
            raise src.error(line, f"SOLVE {name}{how} (a PROCEDURE)",
                            "the PROCEDURE updates the mechanism in discrete steps, so it "
                            "has no continuous-time right-hand side for an ODE solver; "
                            "write the update as a DERIVATIVE or KINETIC block, or use the "
                            "fixed-step simulator")
        if kind == "derivative":
            states = [s for s, _ in derivative_equations(info.derivatives[name])]
        else:
            states = list(mech.kinetic_blocks[name].states)
        blocks.append((kind, name))
        governed += [s for s in states if s not in governed]
    state_line = src.block_line("STATE")
    init_solved = {n.extra["block"] for n in (info.initial.walk() if info.initial else [])
                   if n.kind == "SolveBlock"}
    for s in info.states:
        if s in governed:
            continue
        line = src.word_line(s, state_line or 1)
        in_init_only = any(s in _block_states(mech, b) for b in init_solved)
        if in_init_only:
            raise src.error(line, f"STATE {s}", "is only set by SOLVE ... STEADYSTATE in "
                            "INITIAL (no SOLVE of its block in BREAKPOINT), so it has no "
                            "differential equation; SOLVE the block in BREAKPOINT or use the "
                            "fixed-step simulator")
        raise src.error(line, f"STATE {s}", "is not integrated by any DERIVATIVE or KINETIC "
                        "block SOLVEd in BREAKPOINT, so it has no differential equation; "
                        "use the fixed-step simulator")
    # Assignments that overwrite a state (or a written concentration) in discrete steps.
    bodies = [info.breakpoint, *_solved_bodies(mech)]
    callables = reachable_callables(info, bodies)
    written_conc = [w for u in info.useions for w in u.write
                    if w in (u.ion + "i", u.ion + "o")]
    named = [("BREAKPOINT", info.breakpoint)]
    named += [(f"{k.upper()} {n}", info.derivatives[n] if k == "derivative"
               else info.kinetics[n]) for k, n in blocks]
    named += [(f"{'FUNCTION' if info.callables[c].is_function else 'PROCEDURE'} {c}",
               info.callables[c].body) for c in callables]
    for where, body in named:
        for var in sorted(assigned_names(body)):
            conc_in_solve = var in written_conc and where != "BREAKPOINT"
            if var in info.states or conc_in_solve:
                what = "STATE" if var in info.states else "concentration"
                raise src.error(src.word_line(var, src.block_line(*where.split(" ", 1)) or 1),
                                f"assignment to {what} {var} in {where}",
                                "overwrites it in discrete steps, which has no "
                                "continuous-time right-hand side; use a differential "
                                "equation or the fixed-step simulator")
    return OdePlan(tuple(blocks), tuple(governed))


def _block_states(mech, name: str) -> list[str]:
    from reducer.nmodl2jax.schemes import derivative_equations

    info = mech.info
    if name in info.derivatives:
        return [s for s, _ in derivative_equations(info.derivatives[name])]
    if name in mech.kinetic_blocks:
        return list(mech.kinetic_blocks[name].states)
    if name in info.kinetics:
        return [n.children[0].value for n in info.kinetics[name].walk()
                if n.kind == "VarName" and n.children and n.children[0].kind == "Name"
                and n.children[0].value in info.states]
    return []


def second_pass_needed(mech) -> bool:
    """True if BREAKPOINT (or what it calls) reads a non-STATE value that only the SOLVEd
    blocks (or what they call) assign; see the module docstring."""
    info = mech.info
    solved = [b for (k, _n, _m), b in zip(mech.solves, _solved_bodies(mech), strict=True)
              if k != "procedure"]
    if not solved:
        return False
    bp_calls = reachable_callables(info, [info.breakpoint])
    solved_names = {n for _, n, _ in mech.solves}
    reads = _read_names(info.breakpoint)
    bp_assigned = assigned_names(info.breakpoint)
    for c in bp_calls:
        if c in solved_names:
            continue
        reads |= _read_names(info.callables[c].body)
        bp_assigned |= assigned_names(info.callables[c].body)
    writes: set[str] = set()
    for body in solved:
        writes |= assigned_names(body)
    for c in reachable_callables(info, solved):
        writes |= assigned_names(info.callables[c].body)
    return bool((reads & writes) - set(info.states) - bp_assigned)
