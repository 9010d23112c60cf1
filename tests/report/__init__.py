"""Report-only mode, the ``on_decision`` recipes and the tighten-CORS end-to-end run."""
