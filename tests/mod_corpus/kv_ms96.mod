TITLE kv_ms96: delayed-rectifier K current of the Mainen & Sejnowski 1996 neocortical neuron models (rate TABLE)

COMMENT
Reference: Mainen ZF, Joerges J, Huguenard JR, Sejnowski TJ (1995) A model of spike
  initiation in neocortical pyramidal neurons. Neuron 15:1427-1439, Appendix (fast K
  channel rate equations, rates at 23 degC, q10 = 2.3); used in Mainen ZF, Sejnowski TJ
  (1996) Nature 382:363-366, Methods.
Written for reduce-cell from those equations:
  I_Kv    = gbar n (v - ek)
  alpha_n =  0.02  (v - 25) / (1 - exp(-(v - 25)/9))
  beta_n  = -0.002 (v - 25) / (1 - exp( (v - 25)/9))
  n_inf = alpha_n / (alpha_n + beta_n),  tau_n = 1 / (tadj (alpha_n + beta_n))
  tadj = q10^((celsius - temp)/10), q10 = 2.3, temp = 23 degC
Idioms: PROCEDURE rates with a TABLE (DEPEND celsius and the GLOBAL rate PARAMETERs it
uses), table outputs ninf/ntau GLOBAL (one table shared by all instances), guard at
v = 25 mV with a 1e-6 tolerance (trap0 form, limit rate*q), cnexp.
ENDCOMMENT

NEURON {
    SUFFIX kv_ms96
    USEION k READ ek WRITE ik
    RANGE gbar, g, ik
    GLOBAL ninf, ntau, temp, q10
    THREADSAFE
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gbar = 0.03 (S/cm2)
    tha = 25 (mV)
    qa = 9 (mV)
    Ra = 0.02 (/ms-mV)
    Rb = 0.002 (/ms-mV)
    temp = 23 (degC)
    q10 = 2.3
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ek (mV)
    ik (mA/cm2)
    g (S/cm2)
    ninf
    ntau (ms)
}

STATE {
    n
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    g = gbar * n
    ik = g * (v - ek)
}

DERIVATIVE states {
    trates(v)
    n' = (ninf - n) / ntau
}

INITIAL {
    trates(v)
    n = ninf
}

PROCEDURE trates(vm (mV)) {
    LOCAL a, b, tadj
    TABLE ninf, ntau DEPEND celsius, temp, q10, tha, qa, Ra, Rb FROM -100 TO 100 WITH 200
    UNITSOFF
    tadj = q10 ^ ((celsius - temp) / 10)
    a = trap0(vm, tha, Ra, qa)
    b = trap0(-vm, -tha, Rb, qa)
    ntau = 1 / (tadj * (a + b))
    ninf = a / (a + b)
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
