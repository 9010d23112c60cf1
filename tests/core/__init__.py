"""The policy core without a server: API, configuration errors, fast paths, properties, reason codes."""
