"""The routes of ``tests/support/shared_app.py`` written in each framework corsware is verified with.

One module per framework (``litestar_app``, ``quart_app``, ``sanic_app``, ``falcon_app``,
``channels_app``, ``bottle_app``, ``pyramid_app``); each builds a real app of that framework
whose handler serves ``tests.support.shared_app._route`` for every path and method (``/raise`` raises
``tests.support.shared_app.AppError``) and records the path in :data:`tests.support.frameworks.common.CALLS`, so
a test can tell whether a request reached the app. ``runners`` drives them in-process or
under a real server; ``serve`` is what the servers import; ``versions`` writes the table of
verified versions into docs/frameworks.md and docs/zh/frameworks.md.
"""
