"""Apps served by uvicorn and gunicorn in the real-server benchmark.

The subject is chosen by the ``CORSWARE_BENCH_SUBJECT`` environment variable, so that one
module path serves every subject: ``uvicorn benchmarks.server_apps:asgi_app`` and
``gunicorn benchmarks.server_apps:wsgi_app``.
"""

from __future__ import annotations

import os
from typing import Any

from .scenarios import BY_NAME, ORIGIN
from .subjects import StaticHeadersASGI, StaticHeadersWSGI, bare_asgi, corsware_policy, flask_app, starlette_cors

#: The policy every server subject uses (one allowed origin, as in the "simple" scenario).
SCENARIO = BY_NAME["simple"]


def _asgi(subject: str) -> Any:
    if subject == "bare":
        return bare_asgi
    if subject == "corsware":
        from corsware.asgi import CORSMiddleware

        return CORSMiddleware(bare_asgi, policy=corsware_policy(SCENARIO))
    if subject == "starlette":
        return starlette_cors(bare_asgi, SCENARIO)
    if subject == "static_headers":
        return StaticHeadersASGI(bare_asgi, corsware_policy(SCENARIO).plan.exact_raw[ORIGIN.encode()].raw_tail)
    raise ValueError(f"unknown ASGI subject {subject!r}")


def _wsgi(subject: str) -> Any:
    if subject == "bare":
        return flask_app()
    if subject == "corsware":
        from corsware.wsgi import CORSMiddleware

        return CORSMiddleware(flask_app(), policy=corsware_policy(SCENARIO))
    if subject == "flask_cors":
        return flask_app(SCENARIO)
    if subject == "static_headers":
        return StaticHeadersWSGI(flask_app(), corsware_policy(SCENARIO).plan.exact_text[ORIGIN].text_tail)
    raise ValueError(f"unknown WSGI subject {subject!r}")


_SUBJECT = os.environ.get("CORSWARE_BENCH_SUBJECT", "")
asgi_app = _asgi(_SUBJECT) if os.environ.get("CORSWARE_BENCH_SERVER") == "uvicorn" else None
wsgi_app = _wsgi(_SUBJECT) if os.environ.get("CORSWARE_BENCH_SERVER") == "gunicorn" else None
