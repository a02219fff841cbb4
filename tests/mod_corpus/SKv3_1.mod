TITLE SKv3_1: Kv3.1 (fast delayed-rectifier) K current of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "SKv3_1" equations; kinetics from Rettig J, Wunder F, Stocker M,
  Lichtinghagen R, Mastiaux F, Beckh S, Kues W, Pedarzani P, Schroter KH, Ruppersberg JP,
  Veh R, Pongs O (1992) Characterization of a Shaw-related potassium channel family in rat
  brain. EMBO J 11:2473-2486.
Written for reduce-cell from those equations:
  I_Kv3.1 = gbar m (v - ek)
  m_inf = 1 / (1 + exp((v - 18.7)/(-9.7)))
  tau_m = 0.2 * 20 / (1 + exp((v + 46.56)/(-44.14)))   (ms; no temperature correction)
Idioms: delayed rectifier, Boltzmann inf and sigmoidal tau (no singularity), cnexp.
ENDCOMMENT

NEURON {
    SUFFIX SKv3_1
    USEION k READ ek WRITE ik
    RANGE gbar, g, ik
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
    ek (mV)
    ik (mA/cm2)
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
    ik = g * (v - ek)
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
    UNITSOFF
    mInf = 1 / (1 + exp((vm - 18.7) / (-9.7)))
    mTau = 0.2 * 20 / (1 + exp((vm + 46.56) / (-44.14)))
    UNITSON
}
