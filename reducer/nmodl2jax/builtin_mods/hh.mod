TITLE Hodgkin-Huxley squid axon channels, as NEURON's built-in hh mechanism

COMMENT
Written for reduce-cell from Hodgkin AL, Huxley AF (1952) A quantitative description of
membrane current and its application to conduction and excitation in nerve. J Physiol
117:500-544 (eqs. 5-7, 12-13, 20-23, 26), in the form NEURON documents for its built-in
"hh" mechanism (nrn documentation "hh"; Hines & Carnevale, The NEURON Book, 2006):
  voltage shifted to a resting potential of -65 mV, rates multiplied by
  q10 = 3^((celsius - 6.3)/10), and the 0/0 points of the alpha_m and alpha_n
  expressions handled by vtrap(x, y) = x/(exp(x/y) - 1) with limit y(1 - x/(2y)).
    alpha_m = 0.1 vtrap(-(v+40), 10)      beta_m = 4 exp(-(v+65)/18)
    alpha_h = 0.07 exp(-(v+65)/20)        beta_h = 1/(exp(-(v+35)/10) + 1)
    alpha_n = 0.01 vtrap(-(v+55), 10)     beta_n = 0.125 exp(-(v+65)/80)
    ina = gnabar m^3 h (v - ena), ik = gkbar n^4 (v - ek), il = gl (v - el)
NEURON's hh tabulates the rates over -100..100 mV in 200 steps (usetable_hh = 1 by
default); the TABLE statement below says the same, so the translator interpolates exactly
as NEURON does where usetable_hh = 1 and evaluates directly where it is 0.
ENDCOMMENT

NEURON {
    SUFFIX hh
    USEION na READ ena WRITE ina
    USEION k READ ek WRITE ik
    NONSPECIFIC_CURRENT il
    RANGE gnabar, gkbar, gl, el, gna, gk
    GLOBAL minf, hinf, ninf, mtau, htau, ntau
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gnabar = 0.12 (S/cm2)
    gkbar = 0.036 (S/cm2)
    gl = 0.0003 (S/cm2)
    el = -54.3 (mV)
}

STATE { m h n }

ASSIGNED {
    v (mV)
    celsius (degC)
    ena (mV)
    ek (mV)
    gna (S/cm2)
    gk (S/cm2)
    ina (mA/cm2)
    ik (mA/cm2)
    il (mA/cm2)
    minf
    hinf
    ninf
    mtau (ms)
    htau (ms)
    ntau (ms)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    gna = gnabar * m * m * m * h
    ina = gna * (v - ena)
    gk = gkbar * n * n * n * n
    ik = gk * (v - ek)
    il = gl * (v - el)
}

INITIAL {
    rates(v)
    m = minf
    h = hinf
    n = ninf
}

DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
    n' = (ninf - n) / ntau
}

PROCEDURE rates(v (mV)) {
    LOCAL alpha, beta, sum, q10
    TABLE minf, mtau, hinf, htau, ninf, ntau DEPEND celsius FROM -100 TO 100 WITH 200
    UNITSOFF
    q10 = 3^((celsius - 6.3) / 10)
    alpha = 0.1 * vtrap(-(v + 40), 10)
    beta = 4 * exp(-(v + 65) / 18)
    sum = alpha + beta
    mtau = 1 / (q10 * sum)
    minf = alpha / sum
    alpha = 0.07 * exp(-(v + 65) / 20)
    beta = 1 / (exp(-(v + 35) / 10) + 1)
    sum = alpha + beta
    htau = 1 / (q10 * sum)
    hinf = alpha / sum
    alpha = 0.01 * vtrap(-(v + 55), 10)
    beta = 0.125 * exp(-(v + 65) / 80)
    sum = alpha + beta
    ntau = 1 / (q10 * sum)
    ninf = alpha / sum
    UNITSON
}

FUNCTION vtrap(x, y) {
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}
