TITLE Ih: hyperpolarisation-activated cation (HCN) current of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "Ih" equations; kinetics from Kole MHP, Hallermann S, Stuart GJ
  (2006) Single Ih channels in pyramidal neuron dendrites: properties, distribution, and
  impact on action potential output. J Neurosci 26:1677-1687.
Written for reduce-cell from those equations:
  I_h = gbar m (v - ehcn),  ehcn = -45 mV (mixed Na/K reversal)
  alpha_m = 0.001 * 6.43 (v + 154.9) / (exp((v + 154.9)/11.9) - 1)   (1/ms)
  beta_m  = 0.001 * 193 exp(v/33.1)
  m_inf = alpha_m / (alpha_m + beta_m),  tau_m = 1 / (alpha_m + beta_m)
Idioms: NONSPECIFIC_CURRENT with its own reversal potential (a RANGE PARAMETER), vtrap
guard at v = -154.9 mV, cnexp.
ENDCOMMENT

NEURON {
    SUFFIX Ih
    NONSPECIFIC_CURRENT ihcn
    RANGE gbar, g, ihcn, ehcn
    THREADSAFE
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gbar = 0.00001 (S/cm2)
    ehcn = -45.0 (mV)
}

ASSIGNED {
    v (mV)
    ihcn (mA/cm2)
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
    ihcn = g * (v - ehcn)
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
    LOCAL mAlpha, mBeta
    UNITSOFF
    mAlpha = 0.001 * 6.43 * vtrap(vm + 154.9, 11.9)
    mBeta = 0.001 * 193 * exp(vm / 33.1)
    mInf = mAlpha / (mAlpha + mBeta)
    mTau = 1 / (mAlpha + mBeta)
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
