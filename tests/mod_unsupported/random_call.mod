: expect: 15 normrand
: A noise current drawn from a random-number generator.
NEURON {
    SUFFIX random_call
    NONSPECIFIC_CURRENT i
    RANGE sigma
}
PARAMETER { sigma = 0.01 (mA/cm2) }
ASSIGNED { v (mV) i (mA/cm2) noise }
INITIAL {
    noise = 0
}

BREAKPOINT {
    noise = sigma * normrand(0, 1)
    i = 0.001 * (v + 65) + noise
}
