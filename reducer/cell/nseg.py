"""Spatial discretisation: NEURON's d_lambda rule (as in its ``fixnseg.hoc``) or a fixed nseg."""

from __future__ import annotations

import math
from typing import Any

DEFAULT_D_LAMBDA = {"rule": "d_lambda", "d_lambda": 0.1, "frequency_Hz": 100.0}


def lambda_f_um(sec: Any, frequency_Hz: float) -> float:
    """AC length constant (um) of ``sec`` at ``frequency_Hz``, from its 3-d points if it has any.

    With 3-d points the section's electrotonic length is summed piecewise,
    ``sum dL / sqrt(d1 + d2)`` (the tapering-cylinder form NEURON's fixnseg.hoc uses); uses the
    section's Ra and its cm at x = 0.5, so call it after they are set.
    """
    cm = sec(0.5).cm
    if sec.n3d() < 2:
        return 1e5 * math.sqrt(sec.diam / (4 * math.pi * frequency_Hz * sec.Ra * cm))
    x1, d1 = sec.arc3d(0), sec.diam3d(0)
    lam = 0.0
    for i in range(1, int(sec.n3d())):
        x2, d2 = sec.arc3d(i), sec.diam3d(i)
        lam += (x2 - x1) / math.sqrt(d1 + d2)
        x1, d1 = x2, d2
    lam *= math.sqrt(2) * 1e-5 * math.sqrt(4 * math.pi * frequency_Hz * sec.Ra * cm)
    return sec.L / lam


def d_lambda_nseg(sec: Any, d_lambda: float, frequency_Hz: float) -> int:
    """``int((L / (d_lambda * lambda_f) + 0.9) / 2) * 2 + 1`` (odd, >= 1)."""
    return int((sec.L / (d_lambda * lambda_f_um(sec, frequency_Hz)) + 0.9) / 2) * 2 + 1


def apply_nseg(sections: list, rule: dict[str, Any] | None) -> None:
    """Set nseg on every section by ``rule`` (see :mod:`reducer.cell.biophysics`)."""
    if rule is None or rule["rule"] == "keep":
        return
    for sec in sections:
        if rule["rule"] == "fixed":
            sec.nseg = int(rule["nseg"])
        else:
            sec.nseg = d_lambda_nseg(sec, rule["d_lambda"], rule["frequency_Hz"])
