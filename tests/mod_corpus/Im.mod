TITLE Im: muscarinic (M-type) K current of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "Im" equations; kinetics from Adams PR, Brown DA, Constanti A
  (1982) M-currents and other potassium currents in bullfrog sympathetic neurones.
  J Physiol 330:537-572.
Written for reduce-cell from those equations:
  I_M = gbar m (v - ek)
  alpha_m = 3.3e-3 exp( 2.5 * 0.04 (v + 35))   (1/ms)
  beta_m  = 3.3e-3 exp(-2.5 * 0.04 (v + 35))
  m_inf = alpha_m / (alpha_m + beta_m),  tau_m = 1 / ((alpha_m + beta_m) qt)
  qt = 2.3^((celsius - 21)/10)
Idioms: M-type K (slow, tens of ms), CONSTANT block, q10, cnexp.
ENDCOMMENT

NEURON {
    SUFFIX Im
    USEION k READ ek WRITE ik
    RANGE gbar, g, ik
    THREADSAFE
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

CONSTANT {
    rate0 = 3.3e-3 (/ms)
    zeta = 2.5 (1)
    slope = 0.04 (/mV)
    vhalf = -35 (mV)
}

PARAMETER {
    gbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ek (mV)
    ik (mA/cm2)
    g (S/cm2)
    mInf
    mTau (ms)
}

STATE {
    m
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    g = gbar * m
    ik = g * (v - ek)
}

DERIVATIVE states {
    rates(v)
    m' = (mInf - m) / mTau
}

INITIAL {
    rates(v)
    m = mInf
}

PROCEDURE rates(vm (mV)) {
    LOCAL qt, mAlpha, mBeta
    qt = 2.3 ^ ((celsius - 21 (degC)) / 10 (degC))
    mAlpha = rate0 * exp(zeta * slope * (vm - vhalf))
    mBeta = rate0 * exp(-zeta * slope * (vm - vhalf))
    mInf = mAlpha / (mAlpha + mBeta)
    mTau = 1 / ((mAlpha + mBeta) * qt)
}
