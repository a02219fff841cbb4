: expect: 15 NET_RECEIVE
: NET_RECEIVE in a SUFFIX (density) mechanism.
NEURON {
    SUFFIX net_receive
    NONSPECIFIC_CURRENT i
    RANGE g
}
PARAMETER { g = 0.001 (S/cm2) }
ASSIGNED { v (mV) i (mA/cm2) }

BREAKPOINT {
    i = g * (v + 65)
}

NET_RECEIVE(w) {
    g = g + w
}
