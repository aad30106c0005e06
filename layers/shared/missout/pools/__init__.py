"""Pools: the off-chain record of on-chain pools. Today: listing them (`listing`) and leasing the ones due for
the monitor (`due`)."""
