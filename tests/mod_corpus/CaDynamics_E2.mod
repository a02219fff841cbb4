TITLE CaDynamics_E2: submembrane Ca concentration of the Hay et al. 2011 L5b pyramidal cell

COMMENT
Reference: Hay E, Hill S, Schuermann F, Markram H, Segev I (2011) PLoS Comput Biol
  7:e1002107, Text S1, "CaDynamics_E2" equation, after the shell model of Destexhe A,
  Babloyantz A, Sejnowski TJ (1993) Ionic mechanisms for intrinsic slow oscillations in
  thalamic relay neurons. Biophys J 65:1538-1552.
Written for reduce-cell from that equation:
  d[Ca]i/dt = -10000 * ica * gamma / (2 F depth) - ([Ca]i - minCai) / decay
  ica in mA/cm2, depth in um, F = Faraday constant (C/mol); 10000 converts to mM/ms.
  gamma = fraction of free (unbuffered) Ca, decay = removal time constant.
Idioms: USEION ca READ ica WRITE cai (concentration as a STATE; NEURON then recomputes
eca from Nernst every step), buffering factor gamma, shell depth, first-order decay,
cnexp (the equation is linear in cai with ica held over the step). No INITIAL block:
cai starts from cai0_ca_ion.
ENDCOMMENT

NEURON {
    SUFFIX CaDynamics_E2
    USEION ca READ ica WRITE cai
    RANGE decay, gamma, minCai, depth
    THREADSAFE
}

UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    FARADAY = (faraday) (coulombs)
    (molar) = (1/liter)
    (mM) = (millimolar)
    (um) = (micron)
}

PARAMETER {
    gamma = 0.05 : fraction of free calcium (not buffered)
    decay = 80 (ms) : rate of removal of calcium
    depth = 0.1 (um) : depth of shell
    minCai = 1e-4 (mM)
}

ASSIGNED {
    ica (mA/cm2)
}

STATE {
    cai (mM)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
}

DERIVATIVE states {
    cai' = -(10000) * (ica * gamma / (2 * FARADAY * depth)) - (cai - minCai) / decay
}
