TITLE Slow non-inactivating K current (M-type) of the Pospischil et al. 2008 model

COMMENT
Written for reduce-cell from the published equations:
  Pospischil M et al. (2008) Minimal Hodgkin-Huxley type models for different
  classes of cortical and thalamic neurons. Biol Cybern 99:427-441,
  section 2.2, equations for I_M (after Yamada et al. 1989):
    I_M   = gbar p (V - EK)
    p_inf = 1 / (1 + exp(-(V+35)/10))
    tau_p = tau_max / (3.3 exp((V+35)/20) + exp(-(V+35)/20))
  (tau in ms, V in mV).
ENDCOMMENT

NEURON {
    SUFFIX km_p08
    USEION k READ ek WRITE ik
    RANGE gbar, taumax, ik
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 7e-5 (S/cm2)
    taumax = 1000 (ms)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    pinf
    ptau (ms)
}

STATE { p }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * p * (v - ek)
}

INITIAL {
    rates(v)
    p = pinf
}

DERIVATIVE states {
    rates(v)
    p' = (pinf - p) / ptau
}

PROCEDURE rates(v (mV)) {
    UNITSOFF
    pinf = 1 / (1 + exp(-(v + 35) / 10))
    ptau = taumax / (3.3 * exp((v + 35) / 20) + exp(-(v + 35) / 20))
    UNITSON
}
