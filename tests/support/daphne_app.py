"""The module daphne serves in the tests: daphne imports ``module:attribute`` and calls no
factory, so corsware is mounted in a module of its own, as docs/servers.md shows::

    application = corsware.asgi.wrap("myproject.asgi:application")

The app and the policy come from the environment like every other server's
(``CORSWARE_*`` variables); policies that no variable can hold (``SERVERS_CASE``) are built
by ``tests.support.server_app.case_asgi()``.
"""

from __future__ import annotations

import os

import corsware.asgi

from .server_app import case_asgi

#: ``DAPHNE_APP`` lets a test name another app (one that does not exist, to see the start fail).
APP = os.environ.get("DAPHNE_APP", "tests.support.server_app:asgi_app")

application = case_asgi() if "SERVERS_CASE" in os.environ else corsware.asgi.wrap(APP)
