"""The root of the test suite. Tests are grouped by the part of corsware they check (see
``tests/README.md``); everything they share (apps, drivers, servers, the case table,
helpers) is in ``tests/support/``, which no test module's collection depends on."""
