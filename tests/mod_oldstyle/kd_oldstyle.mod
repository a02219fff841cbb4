: Delayed-rectifier K current in the style of early-1990s NEURON files, written for
: reduce-cell's tests: n^4 kinetics with Hodgkin-Huxley rates (Hodgkin & Huxley 1952,
: J Physiol 117:500, eqs. 12-13, shifted to a -65 mV rest), integrated by a PROCEDURE that
: SOLVE calls once per step and that ends with the `VERBATIM return 0; ENDVERBATIM` old
: PROCEDUREs carried (as in Mainen et al. 1995's kd3h5.mod, Larkum et al. 2009's km.mod).
NEURON {
    SUFFIX kd_old
    USEION k READ ek WRITE ik
    RANGE gbar
}
UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    (S) = (siemens)
}
PARAMETER { gbar = 0.036 (S/cm2) }
ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    ninf
}
: a file-scope LOCAL, as in Mainen et al. 1995's kd3h5.mod
LOCAL nexp
STATE { n }
INITIAL {
    trates(v)
    n = ninf
}
BREAKPOINT {
    SOLVE states
    ik = gbar * n * n * n * n * (v - ek)
}
PROCEDURE states() {
    trates(v)
    n = n + nexp * (ninf - n)
    VERBATIM
    return 0;
    ENDVERBATIM
}
PROCEDURE trates(v (mV)) {
    LOCAL a, b, x
    x = -(v + 55)
    if (fabs(x) < 1e-6) {
        a = 0.1
    } else {
        a = 0.01 * x / (exp(x / 10) - 1)
    }
    b = 0.125 * exp(-(v + 65) / 80)
    ninf = a / (a + b)
    nexp = 1 - exp(-dt * (a + b))
}
