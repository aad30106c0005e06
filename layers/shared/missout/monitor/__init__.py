"""The monitor: ticks that find pools needing work and drive them on chain."""
