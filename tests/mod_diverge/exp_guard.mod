: A mechanism that stops the run, written for reduce-cell's tests: it passes no current, and
: once the voltage has run away below -500 mV it raises a hoc error, as a channel's Newton
: solve does in a diverging reduced cell ("scopmath library error"; Mainen & Sejnowski 1996's
: cad.mod under the linear baseline). Compiled for NEURON only, never translated.
NEURON {
    SUFFIX exp_guard
    NONSPECIFIC_CURRENT i
}
UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
}
ASSIGNED {
    v (mV)
    i (mA/cm2)
}
BREAKPOINT {
    i = 0
    if (v < -500) {
VERBATIM
        hoc_execerror("exp_guard: the voltage ran away", 0);
ENDVERBATIM
    }
}
