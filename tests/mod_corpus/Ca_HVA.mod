TITLE Ca_HVA: high-voltage-activated Ca current of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "Ca_HVA" equations; kinetics from Reuveni I, Friedman A, Amitai Y,
  Gutnick MJ (1993) Stepwise repolarization from Ca2+ plateaus in neocortical pyramidal
  cells: evidence for nonhomogeneous distribution of HVA Ca2+ channels in dendrites.
  J Neurosci 13:4609-4621.
Written for reduce-cell from those equations:
  I_CaHVA = gbar m^2 h (v - eca)
  alpha_m = 0.055 (-27 - v) / (exp((-27 - v)/3.8) - 1)   (1/ms)
  beta_m  = 0.94 exp((-75 - v)/17)
  alpha_h = 0.000457 exp((-13 - v)/50)
  beta_h  = 0.0065 / (exp((-v - 15)/28) + 1)
  x_inf = alpha_x / (alpha_x + beta_x),  tau_x = 1 / (alpha_x + beta_x)
eca is READ: where a Ca-concentration mechanism writes cai, NEURON recomputes eca from
the Nernst equation every step.
Idioms: USEION ca READ eca WRITE ica (Nernst reversal), vtrap guard at v = -27 mV, cnexp.
ENDCOMMENT

NEURON {
    SUFFIX Ca_HVA
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
}

ASSIGNED {
    v (mV)
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
    LOCAL mAlpha, mBeta, hAlpha, hBeta
    UNITSOFF
    mAlpha = 0.055 * vtrap(-27 - vm, 3.8)
    mBeta = 0.94 * exp((-75 - vm) / 17)
    mInf = mAlpha / (mAlpha + mBeta)
    mTau = 1 / (mAlpha + mBeta)
    hAlpha = 0.000457 * exp((-13 - vm) / 50)
    hBeta = 0.0065 / (exp((-vm - 15) / 28) + 1)
    hInf = hAlpha / (hAlpha + hBeta)
    hTau = 1 / (hAlpha + hBeta)
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
