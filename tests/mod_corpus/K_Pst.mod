TITLE K_Pst: persistent (slowly inactivating) K current of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "K_Pst" equations; kinetics from Korngreen A, Sakmann B (2000)
  Voltage-gated K+ channels in layer 5 neocortical pyramidal neurones from young rats:
  subtypes and gradients. J Physiol 525:621-639 (persistent component).
Written for reduce-cell from those equations. Hay et al. shift the recorded kinetics by
10 mV (liquid junction potential): with u = v + 10 (mV)
  I_KP  = gbar m^2 h (v - ek)
  m_inf = 1 / (1 + exp(-(u + 1)/12))
  tau_m = (1.25 + 175.03 exp( 0.026 u)) / qt   for u < -50
        = (1.25 +  13    exp(-0.026 u)) / qt   otherwise
  h_inf = 1 / (1 + exp((u + 54)/11))
  tau_h = (360 + (1010 + 24 (u + 55)) exp(-((u + 75)/48)^2)) / qt
  qt = 2.3^((celsius - 21)/10)
Idioms: piecewise tau (if/else), shifted voltage as a LOCAL, q10, cnexp.
ENDCOMMENT

NEURON {
    SUFFIX K_Pst
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
    g = gbar * m * m * h
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
    mInf = 1 / (1 + exp(-(u + 1) / 12))
    if (u < -50) {
        mTau = (1.25 + 175.03 * exp(0.026 * u)) / qt
    } else {
        mTau = (1.25 + 13 * exp(-0.026 * u)) / qt
    }
    hInf = 1 / (1 + exp((u + 54) / 11))
    hTau = (360 + (1010 + 24 * (u + 55)) * exp(-((u + 75) / 48) ^ 2)) / qt
    UNITSON
}
