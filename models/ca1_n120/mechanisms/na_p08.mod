TITLE Transient Na current of the Pospischil et al. 2008 minimal cortical neuron model

COMMENT
Written for reduce-cell from the published equations:
  Pospischil M, Toledo-Rodriguez M, Monier C, Piwkowska Z, Bal T, Fregnac Y,
  Markram H, Destexhe A (2008) Minimal Hodgkin-Huxley type models for different
  classes of cortical and thalamic neurons. Biol Cybern 99:427-441,
  section 2.2, equations for I_Na (Traub & Miles 1991 kinetics):
    I_Na = gbar m^3 h (V - ENa)
    alpha_m = -0.32 (V-VT-13) / (exp(-(V-VT-13)/4) - 1)
    beta_m  =  0.28 (V-VT-40) / (exp((V-VT-40)/5) - 1)
    alpha_h =  0.128 exp(-(V-VT-17)/18)
    beta_h  =  4 / (1 + exp(-(V-VT-40)/5))
  (rates in 1/ms, V in mV). VT adjusts the spike threshold (-60 mV for the RS cell).
The 0/0 points of alpha_m, beta_m are handled by vtrap (its limit is taken near 0).
ENDCOMMENT

NEURON {
    SUFFIX na_p08
    USEION na READ ena WRITE ina
    RANGE gbar, vt, ina
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.05 (S/cm2)
    vt = -60 (mV)
}

ASSIGNED {
    v (mV)
    ena (mV)
    ina (mA/cm2)
    minf
    hinf
    mtau (ms)
    htau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ina = gbar * m * m * m * h * (v - ena)
}

INITIAL {
    rates(v)
    m = minf
    h = hinf
}

DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}

PROCEDURE rates(v (mV)) {
    LOCAL am, bm, ah, bh
    UNITSOFF
    am = 0.32 * vtrap(-(v - vt - 13), 4)
    bm = 0.28 * vtrap(v - vt - 40, 5)
    ah = 0.128 * exp(-(v - vt - 17) / 18)
    bh = 4 / (1 + exp(-(v - vt - 40) / 5))
    minf = am / (am + bm)
    mtau = 1 / (am + bm)
    hinf = ah / (ah + bh)
    htau = 1 / (ah + bh)
    UNITSON
}

FUNCTION vtrap(x, y) {
    : x / (exp(x/y) - 1), with its limit y (1 - x/(2y)) where the quotient is 0/0
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}
