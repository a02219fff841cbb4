TITLE Submembrane Ca pool with first-order decay (L5 pyramidal cells)

COMMENT
Written for reduce-cell (models/l5pc) from the published equation of
  Hay et al. (2011) PLoS Comput Biol 7:e1002107, Text S1, "CaDynamics_E2"
  (the decay pool of Destexhe A, Babloyantz A, Sejnowski TJ (1993) Biophys J 65:1538-1552):
    d[Ca]i/dt = -10000 gamma ica / (2 F depth) - ([Ca]i - minCai) / decay
  ica in mA/cm2, depth in um, F in C/mol, [Ca]i in mM, t in ms (the factor 10000 converts
  the units). gamma: fraction of the Ca2+ influx not buffered; decay: time constant of
  removal; minCai: resting (minimum) concentration. The pool starts at minCai.
ENDCOMMENT

NEURON {
    SUFFIX cad_l5
    USEION ca READ ica WRITE cai
    RANGE gamma, decay, depth, minCai
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mM) = (milli/liter)
    (um) = (micron)
    FARADAY = (faraday) (coulomb)
}

PARAMETER {
    gamma = 0.05
    decay = 80 (ms)
    depth = 0.1 (um)
    minCai = 1e-4 (mM)
}

ASSIGNED {
    ica (mA/cm2)
}

STATE {
    cai (mM)
}

INITIAL {
    cai = minCai
}

BREAKPOINT {
    SOLVE pool METHOD cnexp
}

DERIVATIVE pool {
    UNITSOFF
    cai' = -10000 * gamma * ica / (2 * FARADAY * depth) - (cai - minCai) / decay
    UNITSON
}
