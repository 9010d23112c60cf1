"""What the tests share: the apps they serve, the drivers and servers that run them, the case
table, the checks, and the tools ``make`` runs (``dist``, ``matrix``, ``cli_docs``, ``fuzz``,
``security_report``). No module here imports a test module."""
