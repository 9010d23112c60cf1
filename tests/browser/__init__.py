"""Real browsers against corsware on loopback, and the browser model of ``corsware explain``."""
