"""The ``corsware`` command, run the way a user runs it, and the demo."""
