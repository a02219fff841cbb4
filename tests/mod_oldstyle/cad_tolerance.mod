: Calcium pool with a CVODE tolerance on its state (`ca (mM) <1e-5>`), written for
: reduce-cell's tests in the form of Mainen & Sejnowski 1996's cad.mod: first-order decay
: to cainf (Destexhe et al. 1994, J Neurophysiol 72:803, eq. 1), inward current only.
NEURON {
    SUFFIX cad_tol
    USEION ca READ ica, cai WRITE cai
    RANGE ca
    GLOBAL depth, taur, cainf
}
UNITS {
    (mM) = (milli/liter)
    (mA) = (milliamp)
    (um) = (micron)
    FARADAY = (faraday) (coulomb)
}
PARAMETER {
    depth = 0.1 (um)
    taur = 200 (ms)
    cainf = 100e-6 (mM)
    cai (mM)
}
ASSIGNED { ica (mA/cm2) drive (mM/ms) }
STATE {
    ca (mM) <1e-5>
}
INITIAL {
    ca = cainf
    cai = ca
}
BREAKPOINT { SOLVE state METHOD cnexp }
DERIVATIVE state {
    drive = -(10000) * ica / (2 * FARADAY * depth)
    if (drive <= 0.) { drive = 0. }
    ca' = drive + (cainf - ca) / taur
    cai = ca
}
