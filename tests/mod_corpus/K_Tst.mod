TITLE K_Tst: transient (A-type) K current of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "K_Tst" equations; kinetics from Korngreen A, Sakmann B (2000)
  J Physiol 525:621-639 (fast transient component).
Written for reduce-cell from those equations, with the 10 mV junction-potential shift
u = v + 10 (mV):
  I_KT  = gbar m^4 h (v - ek)
  m_inf = 1 / (1 + exp(-u/19))
  tau_m = (0.34 + 0.92 exp(-((u + 71)/59)^2)) / qt
  h_inf = 1 / (1 + exp((u + 66)/10))
  tau_h = (8 + 49 exp(-((u + 73)/23)^2)) / qt
  qt = 2.3^((celsius - 21)/10)
Idioms: A-type K (fast activation, inactivation), integer power via ^, q10, cnexp.
ENDCOMMENT

NEURON {
    SUFFIX K_Tst
    USEION k READ ek WRITE ik
    RANGE gbar, g, ik
    THREADSAFE
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gbar = 0.00001 (S/cm2)
    vshift = 10 (mV)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ek (mV)
    ik (mA/cm2)
    g (S/cm2)
    mInf
    mTau (ms)
    hInf
    hTau (ms)
}

STATE {
    m
    h
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    g = gbar * m ^ 4 * h
    ik = g * (v - ek)
}

DERIVATIVE states {
    rates(v)
    m' = (mInf - m) / mTau
    h' = (hInf - h) / hTau
}

INITIAL {
    rates(v)
    m = mInf
    h = hInf
}

PROCEDURE rates(vm (mV)) {
    LOCAL qt, u
    UNITSOFF
    qt = 2.3 ^ ((celsius - 21) / 10)
    u = vm + vshift
    mInf = 1 / (1 + exp(-u / 19))
    mTau = (0.34 + 0.92 * exp(-((u + 71) / 59) ^ 2)) / qt
    hInf = 1 / (1 + exp((u + 66) / 10))
    hTau = (8 + 49 * exp(-((u + 73) / 23) ^ 2)) / qt
    UNITSON
}
