"""Security tests: regressions of known CORS-library failures, properties, fuzzing, load and faults."""
