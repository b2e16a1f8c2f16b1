"""Benchmarks, one command each: ``python -m bench`` lists them, ``python -m bench NAME`` runs
one, ``python -m bench all`` runs every one. Results and the commands that produced them
are recorded in ``docs/benchmarks.md``; raw output goes to ``bench/results/`` (not committed).
Shared helpers (machine description, throwaway databases, percentiles, Markdown tables)
live in ``bench/common.py``.
"""
