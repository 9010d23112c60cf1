"""The documentation: every code block and session executed, the built site, the Chinese twins."""
