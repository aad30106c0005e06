"""Pools: the off-chain record of on-chain pools and the rules about them (listing, leasing the ones due for
the monitor, whether a pool can still be paid out). Each module names what it does."""
