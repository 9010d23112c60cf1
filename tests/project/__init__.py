"""The repository itself: packaging, the version matrix's table, the benchmark tooling."""
