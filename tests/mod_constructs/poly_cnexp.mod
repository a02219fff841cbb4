TITLE Test leak with a polynomial-nonlinear cnexp equation (NEURON bug-compatibility)

COMMENT
Written for reduce-cell's translator tests; not a model of a real channel. A leak current
i = g w (v - e) whose gate obeys w' = (winf - w)/tauw - k w^2. nocmodl can differentiate
the right-hand side (products of w) but cannot write it as a*w + b; for METHOD cnexp it then
emits w += (1 - exp(dt*dF/dw)) * (-w). The translator reproduces what NEURON computes.
ENDCOMMENT

NEURON {
    SUFFIX poly_cnexp
    NONSPECIFIC_CURRENT i
    RANGE g, e
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    g = 2e-4 (S/cm2)
    e = -70 (mV)
    tauw = 30 (ms)
    k = 0.05 (/ms)
}

STATE { w }

ASSIGNED {
    v (mV)
    i (mA/cm2)
    winf
}

INITIAL {
    winf = 1 / (1 + exp(-(v + 60) / 10))
    w = winf
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    i = g * w * (v - e)
}

DERIVATIVE states {
    winf = 1 / (1 + exp(-(v + 60) / 10))
    w' = (winf - w) / tauw - k * w * w
}
