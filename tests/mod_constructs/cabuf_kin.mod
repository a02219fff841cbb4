TITLE Test Ca buffering in a submembrane shell as a nonlinear KINETIC scheme

COMMENT
Written for reduce-cell's translator tests. Ca entry into a shell of depth d under the
membrane and first-order binding to a buffer (Yamada, Koch & Adams 1989, in Methods in
Neuronal Modeling, ch. 4; De Schutter & Smolen 1998, ch. 6 of the same book, 2nd ed.):
  d[Ca]/dt = -ica/(2 F d) - kf [Ca][B] + kb [CaB] + ([Ca]rest - [Ca])/taur
  d[B]/dt  = -kf [Ca][B] + kb [CaB],  [B] + [CaB] = Btot
Written as a KINETIC scheme with COMPARTMENT volumes, a << flux and CONSERVE; the binding
reaction makes it nonlinear (Newton iterations in NEURON's sparse solver).
ENDCOMMENT

NEURON {
    SUFFIX cabuf_kin
    USEION ca READ ica WRITE cai
    RANGE depth, taur, btot, kf, kb, carest
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mM) = (milli/liter)
    (um) = (micron)
    FARADAY = (faraday) (coulomb)
}

PARAMETER {
    depth = 0.2 (um)
    taur = 20 (ms)
    btot = 0.05 (mM)
    kf = 100 (/mM-ms)
    kb = 0.1 (/ms)
    carest = 5e-5 (mM)
}

ASSIGNED {
    ica (mA/cm2)
    influx (mM/ms)
}

STATE {
    cai (mM)
    b (mM)
    cab (mM)
}

INITIAL {
    cai = carest
    cab = btot * kf * carest / (kf * carest + kb)
    b = btot - cab
}

BREAKPOINT {
    SOLVE scheme METHOD sparse
}

KINETIC scheme {
    COMPARTMENT depth {cai b cab}
    influx = -ica * 10000 / (2 * FARADAY)
    ~ cai << (influx + depth * (carest - cai) / taur)
    ~ cai + b <-> cab (kf, kb)
    CONSERVE b + cab = btot
}
