TITLE cat_hm92: low-threshold (T-type) Ca current with GHK driving force (Huguenard & McCormick 1992)

COMMENT
Reference: Huguenard JR, McCormick DA (1992) Simulation of the currents involved in
  rhythmic oscillations in thalamic relay neurons. J Neurophysiol 68:1373-1383,
  equations of I_T (activation m^2, inactivation h; Appendix); temperature factors
  (q10 = 5 for m, 3 for h, from 24 degC) and the GHK formulation with a 2 mV shift as in
  Destexhe A, Neubig M, Ulrich D, Huguenard J (1998) Dendritic low-threshold calcium
  currents in thalamic relay cells. J Neurosci 18:3574-3588.
Written for reduce-cell from those equations, with u = v + shift (mV):
  I_T   = pcabar m^2 h ghk(v, cai, cao)        (pcabar in cm/s)
  ghk   = z F zeta (cai - cao exp(-zeta)) / (1 - exp(-zeta)) * 1e-3 (mA/cm2 per cm/s, mM),
          zeta = z F v / (R T), z = 2, T = celsius + 273.15
  m_inf = 1 / (1 + exp(-(u + 57)/6.2))
  tau_m = (0.612 + 1 / (exp(-(u + 132)/16.7) + exp((u + 16.8)/18.2))) / phi_m
  h_inf = 1 / (1 + exp((u + 81)/4))
  tau_h = exp((u + 467)/66.6) / phi_h            for u < -80
        = (28 + exp(-(u + 22)/10.5)) / phi_h      otherwise
  phi_m = 5^((celsius - 24)/10), phi_h = 3^((celsius - 24)/10)
Idioms: GHK current (FUNCTION ghk and efun written here, READ cai, cao; no eca), efun
guard for the 0/0 at v = 0, piecewise tau, derivimplicit.
ENDCOMMENT

NEURON {
    SUFFIX cat_hm92
    USEION ca READ cai, cao WRITE ica
    RANGE pcabar, ica, shift
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
    pcabar = 0.0001 (cm/s)
    shift = 2 (mV)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    cai (mM)
    cao (mM)
    ica (mA/cm2)
    mInf
    mTau (ms)
    hInf
    hTau (ms)
}

STATE {
    m
    h
}

BREAKPOINT {
    SOLVE states METHOD derivimplicit
    ica = pcabar * m * m * h * ghk(v, cai, cao)
}

DERIVATIVE states {
    rates(v)
    m' = (mInf - m) / mTau
    h' = (hInf - h) / hTau
}

INITIAL {
    rates(v)
    m = mInf
    h = hInf
}

PROCEDURE rates(vm (mV)) {
    LOCAL u, phim, phih
    UNITSOFF
    phim = 5 ^ ((celsius - 24) / 10)
    phih = 3 ^ ((celsius - 24) / 10)
    u = vm + shift
    mInf = 1 / (1 + exp(-(u + 57) / 6.2))
    mTau = (0.612 + 1 / (exp(-(u + 132) / 16.7) + exp((u + 16.8) / 18.2))) / phim
    hInf = 1 / (1 + exp((u + 81) / 4))
    if (u < -80) {
        hTau = exp((u + 467) / 66.6) / phih
    } else {
        hTau = (28 + exp(-(u + 22) / 10.5)) / phih
    }
    UNITSON
}

FUNCTION ghk(vm (mV), ci (mM), co (mM)) (.001 coul/cm3) {
    : GHK current per unit permeability, (mA/cm2)/(cm/s) = 0.001 C/cm3, for concentrations in mM
    LOCAL zeta
    UNITSOFF
    zeta = 2 * FARADAY * vm * 0.001 / (R * (celsius + 273.15))
    ghk = 0.001 * 2 * FARADAY * (ci * efun(-zeta) - co * efun(zeta))
    UNITSON
}

FUNCTION efun(x) {
    : x / (exp(x) - 1), 0/0 at x = 0 where it tends to 1 - x/2
    if (fabs(x) < 1e-4) {
        efun = 1 - x / 2
    } else {
        efun = x / (exp(x) - 1)
    }
}
