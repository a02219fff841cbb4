TITLE Persistent Na current of L5 pyramidal cells

COMMENT
Written for reduce-cell (models/l5pc) from the published equations:
  Magistretti J, Alonso A (1999) Biophysical properties and slow voltage-dependent
  inactivation of a sustained sodium current in entorhinal cortex layer-II principal
  neurons: a whole-cell and single-channel study. J Gen Physiol 114:491-509
  (steady-state activation and the slow inactivation, 21 degC),
  in the form of Hay et al. (2011) PLoS Comput Biol 7:e1002107, Text S1, "Nap_Et2":
    I = gbar m^3 h (V - ENa)
    m_inf = 1 / (1 + exp(-(V + 52.6)/4.6))
    tau_m = 6 / ((alpha_m + beta_m) qt), alpha_m, beta_m those of the transient Na
            current (0.182 and 0.124 (1/ms/mV), half point -38 mV, slope 6 mV)
    h_inf = 1 / (1 + exp((V + 48.8)/10))
    alpha_h = -2.88e-6 (V + 17) / (1 - exp((V + 17)/4.63))
    beta_h  =  6.94e-6 (V + 64.4) / (1 - exp(-(V + 64.4)/2.63))
    tau_h = 1 / ((alpha_h + beta_h) qt)
  with qt = q10^((celsius - 21)/10), q10 = 2.3.
Rates of the shape c u / (1 - exp(-u/k)) are evaluated by linexp(u, k) (0/0-safe).
ENDCOMMENT

NEURON {
    SUFFIX nap_l5
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
    minf = 1 / (1 + exp(-(vm + 52.6) / 4.6))
    am = 0.182 * linexp(vm + 38, 6)
    bm = 0.124 * linexp(-(vm + 38), 6)
    mtau = 6 / ((am + bm) * qt)
    hinf = 1 / (1 + exp((vm + 48.8) / 10))
    ah = 2.88e-6 * linexp(-(vm + 17), 4.63)
    bh = 6.94e-6 * linexp(vm + 64.4, 2.63)
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
