: expect: 12 variable t
: A current that depends on the simulation time t.
NEURON {
    SUFFIX uses_time
    NONSPECIFIC_CURRENT i
}
PARAMETER { ton = 10 (ms) }
ASSIGNED { v (mV) i (mA/cm2) }

BREAKPOINT {
    i = 0.001 * (v + 65)
    if (t > ton) {
        i = 0
    }
}
