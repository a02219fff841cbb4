: Small-conductance calcium-activated potassium current, written for reduce-cell's tests.
: Hill activation by intracellular calcium, z_inf = 1 / (1 + (kd / cai)^n), with a fixed time
: constant, as in Koehler et al. 1996 (Science 273:1709, fig. 2) and the SK channel of
: Hay et al. 2011. The state carries bounds (FROM 0 TO 1), as published SK models do.
NEURON {
    SUFFIX sk_t
    USEION k READ ek WRITE ik
    USEION ca READ cai
    RANGE gbar
    GLOBAL kd, tauz
}
UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    (mM) = (milli/liter)
    (S) = (siemens)
}
PARAMETER {
    gbar = 0.001 (S/cm2)
    kd = 0.00043 (mM)
    tauz = 1 (ms)
}
ASSIGNED {
    v (mV)
    ek (mV)
    cai (mM)
    ik (mA/cm2)
    zinf
}
STATE { z FROM 0 TO 1 }
INITIAL {
    rate(cai)
    z = zinf
}
BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * z * (v - ek)
}
DERIVATIVE states {
    rate(cai)
    z' = (zinf - z) / tauz
}
PROCEDURE rate(ca (mM)) {
    if (ca < 1e-7) {
        ca = 1e-7
    }
    zinf = 1 / (1 + (kd / ca)^4.8)
}
