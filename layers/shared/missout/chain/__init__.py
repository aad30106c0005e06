"""Solana: program codec, RPC with failover, Switchboard, verification, durable sending."""
