TITLE Small-conductance Ca-activated K current (SK) of L5 pyramidal cells

COMMENT
Written for reduce-cell (models/l5pc) from the published equations:
  Koehler M, Hirschberg B, Bond CT, Kinzie JM, Marrion NV, Maylie J, Adelman JP (1996)
  Small-conductance, calcium-activated potassium channels from mammalian brain.
  Science 273:1709-1714 (Hill fit of the Ca2+ dependence: K_d 0.43 uM, Hill coefficient 4.8),
  in the form of Hay et al. (2011) PLoS Comput Biol 7:e1002107, Text S1, "SK_E2":
    I = gbar z (V - EK)
    z_inf = 1 / (1 + (0.00043 mM / [Ca]i)^4.8),  tau_z = 1 ms
  Voltage independent; no temperature correction. [Ca]i is floored at 1e-7 mM so that the
  power stays finite.
ENDCOMMENT

NEURON {
    SUFFIX sk_l5
    USEION k READ ek WRITE ik
    USEION ca READ cai
    RANGE gbar, g, ik
    GLOBAL kd, nhill, tauz
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (mM) = (milli/liter)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.000001 (S/cm2)
    kd = 0.00043 (mM)
    nhill = 4.8
    tauz = 1 (ms)
}

ASSIGNED {
    v (mV)
    ek (mV)
    cai (mM)
    ik (mA/cm2)
    g (S/cm2)
    zinf
}

STATE {
    z FROM 0 TO 1
}

BREAKPOINT {
    SOLVE gating METHOD cnexp
    g = gbar * z
    ik = g * (v - ek)
}

INITIAL {
    zrate(cai)
    z = zinf
}

DERIVATIVE gating {
    zrate(cai)
    z' = (zinf - z) / tauz
}

PROCEDURE zrate(c (mM)) {
    LOCAL cc
    UNITSOFF
    cc = c
    if (cc < 1e-7) {
        cc = 1e-7
    }
    zinf = 1 / (1 + pow(kd / cc, nhill))
    UNITSON
}
