"""Equilibrium solvers: RQE, logit QRE, Nash, Gaussian games and continuation paths."""
