TITLE Ca_LVAst: low-voltage-activated (T-type) Ca current of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "Ca_LVAst" equations; kinetics from Avery RB, Johnston D (1996)
  Multiple channel types contribute to the low-voltage-activated calcium current in
  hippocampal CA3 pyramidal neurons. J Neurosci 16:5567-5582 (tau_m after Randall &
  Tsien 1997).
Written for reduce-cell from those equations, with the 10 mV junction-potential shift
u = v + 10 (mV):
  I_CaLVA = gbar m^2 h (v - eca)
  m_inf = 1 / (1 + exp(-(u + 30)/6))
  tau_m = (5 + 20 / (1 + exp((u + 25)/5))) / qt
  h_inf = 1 / (1 + exp((u + 80)/6.4))
  tau_h = (20 + 50 / (1 + exp((u + 40)/7))) / qt
  qt = 2.3^((celsius - 21)/10)
Idioms: T-type Ca with Nernst reversal (READ eca), q10, cnexp.
ENDCOMMENT

NEURON {
    SUFFIX Ca_LVAst
    USEION ca READ eca WRITE ica
    RANGE gbar, g, ica
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
    eca (mV)
    ica (mA/cm2)
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
    g = gbar * m * m * h
    ica = g * (v - eca)
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
    mInf = 1 / (1 + exp(-(u + 30) / 6))
    mTau = (5 + 20 / (1 + exp((u + 25) / 5))) / qt
    hInf = 1 / (1 + exp((u + 80) / 6.4))
    hTau = (20 + 50 / (1 + exp((u + 40) / 7))) / qt
    UNITSON
}
