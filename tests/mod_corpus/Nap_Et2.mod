TITLE Nap_Et2: persistent Na current of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "Nap_Et2" equations; kinetics from Magistretti J, Alonso A (1999)
  Biophysical properties and slow voltage-dependent inactivation of a sustained sodium
  current in entorhinal cortex layer-II principal neurons. J Gen Physiol 114:491-509.
Written for reduce-cell from those equations (v in mV, rates in 1/ms):
  I_Nap = gbar m^3 h (v - ena)
  m_inf = 1 / (1 + exp(-(v + 52.6)/4.6))
  tau_m = 6 / ((alpha_m + beta_m) qt), alpha_m, beta_m as in NaTa_t (Colbert & Pan 2002):
    alpha_m = 0.182 (v + 38) / (1 - exp(-(v + 38)/6)), beta_m = -0.124 (v + 38) / (1 - exp((v + 38)/6))
  h_inf = 1 / (1 + exp((v + 48.8)/10))
  alpha_h = -2.88e-6 (v + 17) / (1 - exp((v + 17)/4.63))
  beta_h  =  6.94e-6 (v + 64.4) / (1 - exp(-(v + 64.4)/2.63))
  tau_h = 1 / ((alpha_h + beta_h) qt),  qt = 2.3^((celsius - 21)/10)
Idioms: persistent Na (non-inactivating on the spike time scale, h over seconds); vtrap
guard; q10; cnexp.
ENDCOMMENT

NEURON {
    SUFFIX Nap_Et2
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
    gbar = 0.00001 (S/cm2)
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
    g = gbar * m * m * m * h
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
    LOCAL qt, mAlpha, mBeta, hAlpha, hBeta
    UNITSOFF
    qt = 2.3 ^ ((celsius - 21) / 10)
    mInf = 1 / (1 + exp(-(vm + 52.6) / 4.6))
    mAlpha = 0.182 * vtrap(-(vm + 38), 6)
    mBeta = 0.124 * vtrap(vm + 38, 6)
    mTau = 6 / ((mAlpha + mBeta) * qt)
    hInf = 1 / (1 + exp((vm + 48.8) / 10))
    hAlpha = 2.88e-6 * vtrap(vm + 17, 4.63)
    hBeta = 6.94e-6 * vtrap(-(vm + 64.4), 2.63)
    hTau = 1 / ((hAlpha + hBeta) * qt)
    UNITSON
}

FUNCTION vtrap(x (mV), y (mV)) (mV) {
    : x / (exp(x/y) - 1) with its limit y (1 - x/(2y)) where the quotient is 0/0
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}
