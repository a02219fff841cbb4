TITLE Kv3.1 (fast non-inactivating) K current of L5 pyramidal cells

COMMENT
Written for reduce-cell (models/l5pc) from the published equations:
  Rettig J, Wunder F, Stocker M, Lichtinghagen R, Mastiaux F, Beckh S, Kues W, Pedarzani P,
  Schroeter KH, Ruppersberg JP, Veh R, Pongs O (1992) Characterization of a Shaw-related
  potassium channel family in rat brain. EMBO J 11:2473-2486,
  in the form of Hay et al. (2011) PLoS Comput Biol 7:e1002107, Text S1, "SKv3_1":
    I = gbar m (V - EK)
    m_inf = 1 / (1 + exp((V - 18.7)/(-9.7)))
    tau_m = 0.2 * 20 / (1 + exp((V + 46.56)/(-44.14)))   (ms)
  No temperature correction (as in Hay et al. 2011).
ENDCOMMENT

NEURON {
    SUFFIX kv31_l5
    USEION k READ ek WRITE ik
    RANGE gbar, g, ik
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
    ek (mV)
    ik (mA/cm2)
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
    ik = g * (v - ek)
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
    UNITSOFF
    minf = 1 / (1 + exp(-(vm - 18.7) / 9.7))
    mtau = 4 / (1 + exp(-(vm + 46.56) / 44.14))
    UNITSON
}
