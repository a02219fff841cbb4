TITLE High-voltage-activated Ca current of L5 pyramidal cells

COMMENT
Written for reduce-cell (models/l5pc) from the published equations:
  Reuveni I, Friedman A, Amitai Y, Gutnick MJ (1993) Stepwise repolarization from Ca2+
  plateaus in neocortical pyramidal cells: evidence for nonhomogeneous distribution of HVA
  Ca2+ channels in dendrites. J Neurosci 13:4609-4621,
  in the form of Hay et al. (2011) PLoS Comput Biol 7:e1002107, Text S1, "Ca_HVA":
    I = gbar m^2 h (V - ECa)
    alpha_m = 0.055 (-27 - V) / (exp((-27 - V)/3.8) - 1)      (1/ms)
    beta_m  = 0.94 exp((-75 - V)/17)
    alpha_h = 0.000457 exp((-13 - V)/50)
    beta_h  = 0.0065 / (exp((-V - 15)/28) + 1)
    x_inf = alpha_x / (alpha_x + beta_x),  tau_x = 1 / (alpha_x + beta_x)
  No temperature correction (as in Hay et al. 2011). ECa is NEURON's Nernst potential from
  [Ca]i (written by cad_l5) and [Ca]o. alpha_m = 0.055 linexp(V + 27, 3.8) (0/0-safe).
ENDCOMMENT

NEURON {
    SUFFIX cahva_l5
    USEION ca READ eca WRITE ica
    RANGE gbar, g, ica
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    eca (mV)
    ica (mA/cm2)
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
    g = gbar * m * m * h
    ica = g * (v - eca)
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
    LOCAL am, bm, ah, bh
    UNITSOFF
    am = 0.055 * linexp(vm + 27, 3.8)
    bm = 0.94 * exp(bounded((-75 - vm) / 17))
    ah = 0.000457 * exp(bounded((-13 - vm) / 50))
    bh = 0.0065 / (exp(bounded((-vm - 15) / 28)) + 1)
    minf = am / (am + bm)
    mtau = 1 / (am + bm)
    hinf = ah / (ah + bh)
    htau = 1 / (ah + bh)
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

FUNCTION bounded(x) {
    : keeps an exponent inside +-600 (exp overflows above 700)
    if (x > 600) {
        bounded = 600
    } else if (x < -600) {
        bounded = -600
    } else {
        bounded = x
    }
}
