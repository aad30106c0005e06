"""Benchmarks: `make bench` runs bench/run.py; each older script also runs alone."""
