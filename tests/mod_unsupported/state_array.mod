: expect: 8 array
: A STATE array (NEURON cannot translate arrays in DERIVATIVE blocks either).
NEURON {
    SUFFIX state_array
    NONSPECIFIC_CURRENT i
}
ASSIGNED { v (mV) i (mA/cm2) }
STATE { x[3] }
BREAKPOINT {
    SOLVE states METHOD cnexp
    i = 0.001 * (v + 65)
}
DERIVATIVE states {
    x'[0] = -x[0]
}
