TITLE Hyperpolarization-activated cation current (Ih) of L5 pyramidal cells

COMMENT
Written for reduce-cell (models/l5pc) from the published equations:
  Kole MHP, Hallermann S, Stuart GJ (2006) Single Ih channels in pyramidal neuron dendrites:
  properties, distribution, and impact on action potential output. J Neurosci 26:1677-1687,
  in the form of Hay et al. (2011) PLoS Comput Biol 7:e1002107, Text S1, "Ih":
    I = gbar m (V - Eh),  Eh = -45 mV
    alpha_m = 0.001 * 6.43 (V + 154.9) / (exp((V + 154.9)/11.9) - 1)    (1/ms)
    beta_m  = 0.001 * 193 exp(V/33.1)
    m_inf = alpha_m / (alpha_m + beta_m),  tau_m = 1 / (alpha_m + beta_m)
  No temperature correction (as in Hay et al. 2011). The 0/0 point of alpha_m at
  V = -154.9 mV is handled by linexp.
ENDCOMMENT

NEURON {
    SUFFIX ih_l5
    NONSPECIFIC_CURRENT ihcn
    RANGE gbar, g, ihcn, eh
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.00001 (S/cm2)
    eh = -45 (mV)
}

ASSIGNED {
    v (mV)
    ihcn (mA/cm2)
    g (S/cm2)
    minf
    mtau (ms)
}

STATE {
    m
}

BREAKPOINT {
    SOLVE gating METHOD cnexp
    g = gbar * m
    ihcn = g * (v - eh)
}

INITIAL {
    rates(v)
    m = minf
}

DERIVATIVE gating {
    rates(v)
    m' = (minf - m) / mtau
}

PROCEDURE rates(vm (mV)) {
    LOCAL a, b
    UNITSOFF
    : (V + 154.9) / (exp((V + 154.9)/11.9) - 1) = linexp(-(V + 154.9), 11.9)
    a = 0.00643 * linexp(-(vm + 154.9), 11.9)
    b = 0.193 * exp(vm / 33.1)
    minf = a / (a + b)
    mtau = 1 / (a + b)
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
