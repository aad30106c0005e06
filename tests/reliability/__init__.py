"""Reliability: load with faults injected, and properties that must hold for every input."""
