"""MissOut backend: all business logic, shipped to both Lambdas as the shared layer."""
