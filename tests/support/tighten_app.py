"""The app of the "Tighten CORS without breaking production" end-to-end test
(tests/report/test_tighten_e2e.py, docs/tighten.md): a Flask API whose CORS is the classic
hand-written ``after_request`` hook reflecting any origin with credentials.

``create_app()`` reads ``TIGHTEN_PHASE``:

- ``report``: the hook answers; corsware runs in report-only mode with the candidate in
  ``TIGHTEN_CANDIDATE`` (JSON), its records logged to stderr among the server's other lines;
- ``enforce``: the hook is gone and corsware enforces the policy file in ``TIGHTEN_POLICY``.
"""

from __future__ import annotations

import json
import logging
import os
import sys

from flask import Flask, Response, request

from corsware import CORSPolicy
from corsware.flask import CORS


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/api/me")
    def me() -> dict[str, str]:
        return {"user": "alice"}

    if os.environ["TIGHTEN_PHASE"] == "report":

        @app.after_request
        def add_cors_headers(response: Response) -> Response:
            # The classic hook (reflects any origin, with credentials): what is being replaced.
            response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "")
            response.headers["Access-Control-Allow-Credentials"] = "true"
            return response

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        report_logger = logging.getLogger("corsware.report")
        report_logger.addHandler(handler)
        report_logger.setLevel(logging.INFO)
        CORS(app, report_only=json.loads(os.environ["TIGHTEN_CANDIDATE"]))
    else:
        CORS(app, policy=CORSPolicy.from_file(os.environ["TIGHTEN_POLICY"]))
    return app
