"""A local Solana chain: LiteSVM behind JSON-RPC, with the pool program and Switchboard modelled in Python."""
