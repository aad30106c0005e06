"""Pools: the off-chain record of on-chain pools (registering, joining, listing, cancelling, refunds)."""
