"""A player for the local chain: wallets, a test mint, and the pool lifecycle (create, join, donate, cancel,
refund) as real signed transactions, built from the chain's own IDL reader (`localnet.idl`), never from the
backend's `missout` package, so the two readings of the program check each other.

Run it from `dev/`: `python -m player --help`.
"""
