"""Shared tolerances and fixtures for the test suite."""

import numpy as np
import pytest

# Named tolerances (see the test that uses each for why it is this size).
CERT_TOL = 1e-9        # residual and duality gap of a converged solve (solver tol is 1e-10)
MATCH_TOL = 1e-8       # two exact methods computing the same equilibrium
ORACLE_TOL = 1e-6      # against brute-force numerical oracles (bounded scalar maximisation)
DATA_KL_LB = 0.02      # experimental games, KL + log-barrier: distance to observed play
DATA_RKL_ENT = 0.035   # experimental games, reverse KL + entropy: distance to the authors' goals


@pytest.fixture
def rng():
    return np.random.default_rng(20261121)
