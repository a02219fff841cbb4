TITLE Passive leak current, as NEURON's built-in pas mechanism

COMMENT
The equations of NEURON's built-in "pas" density mechanism as documented in the NEURON
reference (Hines & Carnevale, The NEURON Book, 2006, ch. 9; nrn documentation "pas"):
  i = g (v - e),  g = 0.001 S/cm2, e = -70 mV by default.
Bundled with reduce-cell so the translator can treat the built-in like any .mod file.
ENDCOMMENT

NEURON {
    SUFFIX pas
    NONSPECIFIC_CURRENT i
    RANGE g, e
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    g = 0.001 (S/cm2)
    e = -70 (mV)
}

ASSIGNED {
    v (mV)
    i (mA/cm2)
}

BREAKPOINT {
    i = g * (v - e)
}
