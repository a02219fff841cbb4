: expect: 4 POINT_PROCESS
: A point process where the soma translation expects density mechanisms.
NEURON {
    POINT_PROCESS point_process
    NONSPECIFIC_CURRENT i
}
ASSIGNED { v (mV) i (nA) }
BREAKPOINT {
    i = 0.001 * (v + 65)
}
