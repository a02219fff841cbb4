TITLE Muscarinic (M-type) K current of L5 pyramidal cells

COMMENT
Written for reduce-cell (models/l5pc) from the published equations:
  Adams PR, Brown DA, Constanti A (1982) M-currents and other potassium currents in
  bullfrog sympathetic neurones. J Physiol 330:537-572,
  in the form of Hay et al. (2011) PLoS Comput Biol 7:e1002107, Text S1, "Im":
    I = gbar m (V - EK)
    alpha_m = 3.3e-3 exp( 2.5 * 0.04 (V + 35))     (1/ms)
    beta_m  = 3.3e-3 exp(-2.5 * 0.04 (V + 35))
    m_inf = alpha_m / (alpha_m + beta_m),  tau_m = 1 / ((alpha_m + beta_m) qt)
  with qt = q10^((celsius - 21)/10), q10 = 2.3.
ENDCOMMENT

NEURON {
    SUFFIX im_l5
    USEION k READ ek WRITE ik
    RANGE gbar, g, ik
    GLOBAL q10, tref
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.00001 (S/cm2)
    q10 = 2.3
    tref = 21 (degC)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ek (mV)
    ik (mA/cm2)
    g (S/cm2)
    minf
    mtau (ms)
}

STATE {
    m
}

BREAKPOINT {
    SOLVE gating METHOD cnexp
    g = gbar * m
    ik = g * (v - ek)
}

INITIAL {
    rates(v)
    m = minf
}

DERIVATIVE gating {
    rates(v)
    m' = (minf - m) / mtau
}

PROCEDURE rates(vm (mV)) {
    LOCAL a, b, u, qt
    UNITSOFF
    qt = q10^((celsius - tref) / 10)
    u = 0.1 * (vm + 35)
    if (u > 600) {
        u = 600
    }
    if (u < -600) {
        u = -600
    }
    a = 3.3e-3 * exp(u)
    b = 3.3e-3 * exp(-u)
    minf = a / (a + b)
    mtau = 1 / ((a + b) * qt)
    UNITSON
}
