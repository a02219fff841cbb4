TITLE Test high-threshold Ca current in GHK form

COMMENT
Written for reduce-cell's translator tests. Ca current in Goldman-Hodgkin-Katz form
(Goldman 1943 J Gen Physiol 27:37; Hodgkin & Katz 1949 J Physiol 108:37):
  ica = pbar m^2 ghk(v, cai, cao), ghk = z^2 F^2 v/(RT) (cai - cao exp(-zFv/RT))/(1 - exp(-zFv/RT))
with the 0/0 point at v = 0 handled by efun(x) = x/(exp(x) - 1). Activation kinetics of
the Traub & Miles 1991 high-threshold Ca current form. Reads cai and cao (so NEURON
computes eca from them at finitialize), uses FARADAY and R from the UNITS block.
ENDCOMMENT

NEURON {
    SUFFIX cax_ghk
    USEION ca READ cai, cao WRITE ica
    RANGE pbar
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (mM) = (milli/liter)
    FARADAY = (faraday) (coulomb)
    R = (k-mole) (joule/degC)
}

PARAMETER {
    pbar = 2e-5 (cm/s)
}

STATE { m }

ASSIGNED {
    v (mV)
    celsius (degC)
    cai (mM)
    cao (mM)
    ica (mA/cm2)
    minf
    mtau (ms)
}

INITIAL {
    rates(v)
    m = minf
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    ica = pbar * m * m * ghk(v, cai, cao)
}

DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
}

PROCEDURE rates(v (mV)) {
    LOCAL a, b
    UNITSOFF
    a = 1.6 / (1 + exp(-0.072 * (v - 5)))
    b = 0.02 * efun(-(v + 8.9) / 5) * 5
    minf = a / (a + b)
    mtau = 1 / (a + b)
    UNITSON
}

FUNCTION ghk(v (mV), ci (mM), co (mM)) (mA/cm2) {
    LOCAL z, eci, eco
    z = (1e-3) * 2 * FARADAY * v / (R * (celsius + 273.15))
    eco = co * efun(z)
    eci = ci * efun(-z)
    ghk = (1e-3) * 2 * FARADAY * (eci - eco)
}

FUNCTION efun(z) {
    if (fabs(z) < 1e-4) {
        efun = 1 - z / 2
    } else {
        efun = z / (exp(z) - 1)
    }
}
