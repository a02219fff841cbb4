TITLE NaTa_t: transient (fast inactivating) Na current of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) Models of neocortical
  layer 5b pyramidal cells capturing a wide range of dendritic and perisomatic active
  properties. PLoS Comput Biol 7:e1002107, Text S1, "NaTa_t" equations; kinetics from
  Colbert CM, Pan E (2002) Ion channel properties underlying axonal action potential
  initiation in pyramidal neurons. Nat Neurosci 5:533-538.
Written for reduce-cell from those equations (v in mV, rates in 1/ms):
  I_NaTa_t = gbar m^3 h (v - ena)
  alpha_m =  0.182 (v + 38) / (1 - exp(-(v + 38)/6))
  beta_m  = -0.124 (v + 38) / (1 - exp( (v + 38)/6))
  alpha_h = -0.015 (v + 66) / (1 - exp( (v + 66)/6))
  beta_h  =  0.015 (v + 66) / (1 - exp(-(v + 66)/6))
  x_inf = alpha_x / (alpha_x + beta_x),  tau_x = 1 / ((alpha_x + beta_x) qt)
  qt = 2.3^((celsius - 21)/10)  (Hay et al. fix celsius = 34)
Idioms: vtrap FUNCTION with if/else for the removable 0/0 singularities at v = -38 and
v = -66 mV; celsius-dependent q10; cnexp.
ENDCOMMENT

NEURON {
    SUFFIX NaTa_t
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
    mAlpha = 0.182 * vtrap(-(vm + 38), 6)
    mBeta = 0.124 * vtrap(vm + 38, 6)
    mInf = mAlpha / (mAlpha + mBeta)
    mTau = 1 / ((mAlpha + mBeta) * qt)
    hAlpha = 0.015 * vtrap(vm + 66, 6)
    hBeta = 0.015 * vtrap(-(vm + 66), 6)
    hInf = hAlpha / (hAlpha + hBeta)
    hTau = 1 / ((hAlpha + hBeta) * qt)
    UNITSON
}

FUNCTION vtrap(x (mV), y (mV)) (mV) {
    : x / (exp(x/y) - 1); near x = 0 the quotient is 0/0, use its expansion y (1 - x/(2y))
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}
