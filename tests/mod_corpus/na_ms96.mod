TITLE na_ms96: transient Na current of the Mainen & Sejnowski 1996 neocortical neuron models (rate TABLE)

COMMENT
Reference: Mainen ZF, Joerges J, Huguenard JR, Sejnowski TJ (1995) A model of spike
  initiation in neocortical pyramidal neurons. Neuron 15:1427-1439, Appendix (Na
  channel rate equations, rates at 23 degC, q10 = 2.3); used in Mainen ZF, Sejnowski TJ
  (1996) Influence of dendritic structure on firing pattern in model neocortical neurons.
  Nature 382:363-366, Methods.
Written for reduce-cell from those equations, with u = v + vshift (mV):
  I_Na    = gbar m^3 h (v - ena)
  alpha_m =  0.182 (u + 35) / (1 - exp(-(u + 35)/9))
  beta_m  = -0.124 (u + 35) / (1 - exp( (u + 35)/9))
  alpha_h =  0.024 (u + 50) / (1 - exp(-(u + 50)/5))
  beta_h  = -0.0091 (u + 75) / (1 - exp( (u + 75)/5))
  m_inf = alpha_m / (alpha_m + beta_m),  tau_m = 1 / (tadj (alpha_m + beta_m))
  h_inf = 1 / (1 + exp((u + 65)/6.2)),   tau_h = 1 / (tadj (alpha_h + beta_h))
  tadj = q10^((celsius - temp)/10), q10 = 2.3, temp = 23 degC
Idioms: PROCEDURE rates with a TABLE (TABLE ... DEPEND celsius ... FROM -100 TO 100 WITH
200; NEURON interpolates linearly in v when usetable_na_ms96 = 1), GLOBAL table outputs,
rate constants in a CONSTANT block, 4-argument trap FUNCTION, cnexp.
ENDCOMMENT

NEURON {
    SUFFIX na_ms96
    USEION na READ ena WRITE ina
    RANGE gbar, g, ina
    GLOBAL minf, hinf, mtau, htau, vshift, temp, q10
    THREADSAFE
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

CONSTANT {
    tha = -35 (mV)
    qa = 9 (mV)
    Ra = 0.182 (/ms-mV)
    Rb = 0.124 (/ms-mV)
    thi1 = -50 (mV)
    thi2 = -75 (mV)
    qi = 5 (mV)
    thinf = -65 (mV)
    qinf = 6.2 (mV)
    Rg = 0.0091 (/ms-mV)
    Rd = 0.024 (/ms-mV)
}

PARAMETER {
    gbar = 0.1 (S/cm2)
    vshift = 0 (mV)
    temp = 23 (degC)
    q10 = 2.3
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ena (mV)
    ina (mA/cm2)
    g (S/cm2)
    minf
    hinf
    mtau (ms)
    htau (ms)
}

STATE {
    m
    h
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    g = gbar * m * m * m * h
    ina = g * (v - ena)
}

DERIVATIVE states {
    trates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}

INITIAL {
    trates(v)
    m = minf
    h = hinf
}

PROCEDURE trates(vm (mV)) {
    LOCAL a, b, tadj, u
    TABLE minf, hinf, mtau, htau DEPEND celsius, vshift, temp, q10 FROM -100 TO 100 WITH 200
    UNITSOFF
    tadj = q10 ^ ((celsius - temp) / 10)
    u = vm + vshift
    a = trap0(u, tha, Ra, qa)
    b = trap0(-u, -tha, Rb, qa)
    mtau = 1 / (tadj * (a + b))
    minf = a / (a + b)
    a = trap0(u, thi1, Rd, qi)
    b = trap0(-u, -thi2, Rg, qi)
    htau = 1 / (tadj * (a + b))
    hinf = 1 / (1 + exp((u - thinf) / qinf))
    UNITSON
}

FUNCTION trap0(x (mV), th (mV), rate (/ms-mV), q (mV)) (/ms) {
    : rate (x - th) / (1 - exp(-(x - th)/q)), whose value at x = th is rate q
    if (fabs((x - th) / q) > 1e-6) {
        trap0 = rate * (x - th) / (1 - exp(-(x - th) / q))
    } else {
        trap0 = rate * q
    }
}
