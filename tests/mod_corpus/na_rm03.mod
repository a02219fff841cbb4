TITLE na_rm03: transient Na current of the Rothman & Manis 2003 ventral cochlear nucleus model

COMMENT
Reference: Rothman JS, Manis PB (2003) The roles potassium currents play in regulating
  the electrical activity of ventral cochlear nucleus neurons. J Neurophysiol
  89:3097-3113, Appendix, equations of the fast Na current I_Na.
Written for reduce-cell from those equations (v in mV, tau in ms):
  I_Na  = gbar m^3 h (v - ena)
  m_inf = 1 / (1 + exp(-(v + 38)/7))
  tau_m = 10 / (5 exp((v + 60)/18) + 36 exp(-(v + 60)/25)) + 0.04
  h_inf = 1 / (1 + exp((v + 65)/6))
  tau_h = 100 / (7 exp((v + 60)/11) + 10 exp(-(v + 60)/25)) + 0.6
Time constants are for 22 degC; as in Rothman & Manis they are divided by
q10 = 3^((celsius - 22)/10).
Idioms: transient Na WITHOUT any singular rate (Boltzmann inf, bell-shaped tau as a sum of
exponentials, so no vtrap needed), q10 from celsius, cnexp.
ENDCOMMENT

NEURON {
    SUFFIX na_rm03
    USEION na READ ena WRITE ina
    RANGE gbar, g, ina
    THREADSAFE
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gbar = 0.08 (S/cm2)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ena (mV)
    ina (mA/cm2)
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
    g = gbar * m ^ 3 * h
    ina = g * (v - ena)
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
    LOCAL q10
    UNITSOFF
    q10 = 3 ^ ((celsius - 22) / 10)
    mInf = 1 / (1 + exp(-(vm + 38) / 7))
    mTau = (10 / (5 * exp((vm + 60) / 18) + 36 * exp(-(vm + 60) / 25)) + 0.04) / q10
    hInf = 1 / (1 + exp((vm + 65) / 6))
    hTau = (100 / (7 * exp((vm + 60) / 11) + 10 * exp(-(vm + 60) / 25)) + 0.6) / q10
    UNITSON
}
