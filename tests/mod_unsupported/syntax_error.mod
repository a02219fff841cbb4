: expect: 8 syntax
: A file nocmodl would reject too.
NEURON {
    SUFFIX syntax_error
    NONSPECIFIC_CURRENT i
}
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT { i = 0.001 * (v + 65 }
