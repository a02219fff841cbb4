TITLE Fast-inactivating (transient) Na current of L5 pyramidal cells

COMMENT
Written for reduce-cell (models/l5pc) from the published equations:
  Colbert CM, Pan E (2002) Ion channel properties underlying axonal action potential
  initiation in pyramidal neurons. Nat Neurosci 5:533-538 (fits of the somatic/axonal
  transient Na current, measured at 21 degC),
  in the form Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "NaTa_t" (fast inactivating Na+ current):
    I = gbar m^3 h (V - ENa)
    alpha_m =  0.182 (V + 38) / (1 - exp(-(V + 38)/6))
    beta_m  =  0.124 (-V - 38) / (1 - exp(-(-V - 38)/6))
    alpha_h = -0.015 (V + 66) / (1 - exp((V + 66)/6))
    beta_h  = -0.015 (-V - 66) / (1 - exp((-V - 66)/6))
    x_inf = alpha_x / (alpha_x + beta_x),  tau_x = 1 / ((alpha_x + beta_x) qt)
  (rates 1/ms, V mV) with qt = q10^((celsius - 21)/10), q10 = 2.3.
Every rate above has the shape c * u / (1 - exp(-u/k)); it is evaluated by linexp(u, k),
which uses the series k (1 + u/(2k)) where the quotient is 0/0.
ENDCOMMENT

NEURON {
    SUFFIX nat_l5
    USEION na READ ena WRITE ina
    RANGE gbar, g, ina
    GLOBAL q10, tref
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.00001 (S/cm2)
    q10 = 2.3
    tref = 21 (degC)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ena (mV)
    ina (mA/cm2)
    g (S/cm2)
    minf
    hinf
    mtau (ms)
    htau (ms)
}

STATE {
    m
    h
}

BREAKPOINT {
    SOLVE gating METHOD cnexp
    g = gbar * m * m * m * h
    ina = g * (v - ena)
}

INITIAL {
    rates(v)
    m = minf
    h = hinf
}

DERIVATIVE gating {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}

PROCEDURE rates(vm (mV)) {
    LOCAL am, bm, ah, bh, qt
    UNITSOFF
    qt = q10^((celsius - tref) / 10)
    am = 0.182 * linexp(vm + 38, 6)
    bm = 0.124 * linexp(-(vm + 38), 6)
    ah = 0.015 * linexp(-(vm + 66), 6)
    bh = 0.015 * linexp(vm + 66, 6)
    minf = am / (am + bm)
    mtau = 1 / ((am + bm) * qt)
    hinf = ah / (ah + bh)
    htau = 1 / ((ah + bh) * qt)
    UNITSON
}

FUNCTION linexp(u, k) {
    : u / (1 - exp(-u/k)); -> k (1 + u/(2k)) as u -> 0; ~0 for u/k << 0
    if (fabs(u / k) < 1e-6) {
        linexp = k * (1 + u / (2 * k))
    } else if (u / k < -600) {
        linexp = 0
    } else {
        linexp = u / (1 - exp(-u / k))
    }
}
