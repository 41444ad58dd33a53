"""Solvers: the only modules that import OR-Tools."""
