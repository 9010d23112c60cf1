"""Fuzz targets (atheris) and their runner; see docs/security.md."""
