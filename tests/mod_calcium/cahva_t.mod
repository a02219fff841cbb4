: High-voltage-activated calcium current, m^2 h, written for reduce-cell's tests from the
: rate functions of Reuveni, Friedman, Amitai & Gutnick 1993 (J Neurosci 13:4609, table 1),
: the form Hay et al. 2011 (PLoS Comput Biol 7:e1002107, text S1) use for Ca_HVA.
NEURON {
    SUFFIX cahva_t
    USEION ca READ eca WRITE ica
    RANGE gbar
}
UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    (S) = (siemens)
}
PARAMETER { gbar = 0.0001 (S/cm2) }
ASSIGNED {
    v (mV)
    eca (mV)
    ica (mA/cm2)
    minf
    hinf
    mtau (ms)
    htau (ms)
}
STATE {
    m FROM 0 TO 1
    h FROM 0.0 TO 1.0 (1)
}
INITIAL {
    rates(v)
    m = minf
    h = hinf
}
BREAKPOINT {
    SOLVE states METHOD cnexp
    ica = gbar * m * m * h * (v - eca)
}
DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}
PROCEDURE rates(v (mV)) {
    LOCAL am, bm, ah, bh, x
    x = -27 - v
    if (fabs(x) < 1e-6) {
        am = 0.055 * 3.8
    } else {
        am = 0.055 * x / (exp(x / 3.8) - 1)
    }
    bm = 0.94 * exp((-75 - v) / 17)
    ah = 0.000457 * exp((-13 - v) / 50)
    bh = 0.0065 / (exp((-v - 15) / 28) + 1)
    minf = am / (am + bm)
    mtau = 1 / (am + bm)
    hinf = ah / (ah + bh)
    htau = 1 / (ah + bh)
}
