: Submembrane calcium pool with first-order removal, written for reduce-cell's tests.
: d[Ca]i/dt = -gamma * ica / (2 F depth) - ([Ca]i - cainf) / tau
: The form is the usual "calcium decay" pool of cortical models (e.g. Destexhe et al. 1994,
: J Neurophysiol 72:803, eq. 1; Hay et al. 2011 use the same form). WRITE cai makes NEURON
: set bit 0200 (128) of the ca ion's style: the bit the exporter must accept and keep.
NEURON {
    SUFFIX capool_t
    USEION ca READ ica WRITE cai
    RANGE gamma, tau, depth, cainf
}
UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    (mM) = (milli/liter)
    (um) = (micron)
    FARADAY = (faraday) (coulomb)
}
PARAMETER {
    gamma = 0.05
    tau = 80 (ms)
    depth = 0.1 (um)
    cainf = 1e-4 (mM)
}
ASSIGNED { ica (mA/cm2) }
STATE { cai (mM) }
INITIAL { cai = cainf }
BREAKPOINT { SOLVE pool METHOD cnexp }
DERIVATIVE pool {
    cai' = -(10000) * gamma * ica / (2 * FARADAY * depth) - (cai - cainf) / tau
}
