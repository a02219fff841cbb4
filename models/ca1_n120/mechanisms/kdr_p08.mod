TITLE Delayed-rectifier K current of the Pospischil et al. 2008 minimal cortical neuron model

COMMENT
Written for reduce-cell from the published equations:
  Pospischil M et al. (2008) Minimal Hodgkin-Huxley type models for different
  classes of cortical and thalamic neurons. Biol Cybern 99:427-441,
  section 2.2, equations for I_Kd (Traub & Miles 1991 kinetics):
    I_Kd = gbar n^4 (V - EK)
    alpha_n = -0.032 (V-VT-15) / (exp(-(V-VT-15)/5) - 1)
    beta_n  =  0.5 exp(-(V-VT-10)/40)
  (rates in 1/ms, V in mV; VT = -60 mV for the RS cell).
ENDCOMMENT

NEURON {
    SUFFIX kdr_p08
    USEION k READ ek WRITE ik
    RANGE gbar, vt, ik
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.005 (S/cm2)
    vt = -60 (mV)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    ninf
    ntau (ms)
}

STATE { n }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * n * n * n * n * (v - ek)
}

INITIAL {
    rates(v)
    n = ninf
}

DERIVATIVE states {
    rates(v)
    n' = (ninf - n) / ntau
}

PROCEDURE rates(v (mV)) {
    LOCAL an, bn
    UNITSOFF
    an = 0.032 * vtrap(-(v - vt - 15), 5)
    bn = 0.5 * exp(-(v - vt - 10) / 40)
    ninf = an / (an + bn)
    ntau = 1 / (an + bn)
    UNITSON
}

FUNCTION vtrap(x, y) {
    : x / (exp(x/y) - 1), with its limit y (1 - x/(2y)) where the quotient is 0/0
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}
