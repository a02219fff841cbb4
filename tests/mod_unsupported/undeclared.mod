: expect: 9 variable gmax
: A variable used but never declared.
NEURON {
    SUFFIX undeclared
    NONSPECIFIC_CURRENT i
}
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT {
    i = gmax * (v + 65)
}
