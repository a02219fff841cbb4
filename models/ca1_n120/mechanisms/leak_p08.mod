TITLE Leak current of the Pospischil et al. 2008 minimal cortical neuron model

COMMENT
Written for reduce-cell from the published equations:
  Pospischil M et al. (2008) Minimal Hodgkin-Huxley type models for different
  classes of cortical and thalamic neurons. Biol Cybern 99:427-441,
  section 2.1: I_leak = g_leak (V - E_leak).
ENDCOMMENT

NEURON {
    SUFFIX leak_p08
    NONSPECIFIC_CURRENT i
    RANGE g, e, i
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    g = 1e-4 (S/cm2)
    e = -70 (mV)
}

ASSIGNED {
    v (mV)
    i (mA/cm2)
}

BREAKPOINT {
    i = g * (v - e)
}
