TITLE SK_E2: small-conductance Ca-activated K current of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "SK_E2" equations; Ca dependence from Kohler M, Hirschberg B,
  Bond CT, Kinzie JM, Marrion NV, Maylie J, Adelman JP (1996) Small-conductance,
  calcium-activated potassium channels from mammalian brain. Science 273:1709-1714.
Written for reduce-cell from those equations (cai in mM):
  I_SK  = gbar z (v - ek)
  z_inf = 1 / (1 + (0.00043 / cai)^4.8)    (Hill fit, K_d = 0.43 uM, n = 4.8)
  tau_z = zTau = 1 ms
Below 1e-7 mM, 1e-7 mM is added to cai before use, as in Hay et al., so that
(0.00043/cai)^4.8 stays finite when cai is tiny.
Idioms: gating by a concentration (READ cai), voltage-independent, non-integer power, cnexp.
ENDCOMMENT

NEURON {
    SUFFIX SK_E2
    USEION k READ ek WRITE ik
    USEION ca READ cai
    RANGE gbar, g, ik, zTau
    THREADSAFE
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
    (mM) = (milli/liter)
}

PARAMETER {
    gbar = 0.000001 (S/cm2)
    zTau = 1 (ms)
}

ASSIGNED {
    v (mV)
    ek (mV)
    cai (mM)
    ik (mA/cm2)
    g (S/cm2)
    zInf
}

STATE {
    z
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    g = gbar * z
    ik = g * (v - ek)
}

DERIVATIVE states {
    rates(cai)
    z' = (zInf - z) / zTau
}

INITIAL {
    rates(cai)
    z = zInf
}

PROCEDURE rates(ca (mM)) {
    LOCAL c
    c = ca
    if (c < 1e-7) {
        c = c + 1e-7
    }
    UNITSOFF
    zInf = 1 / (1 + (0.00043 / c) ^ 4.8)
    UNITSON
}
