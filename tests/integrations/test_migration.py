"""Moving over from flask-cors, django-cors-headers and Starlette's CORSMiddleware by changing
the lines the docs say to change, and nothing else.

For each peer, a user's project is kept here as source text, unchanged: the app (or the
Django settings), and that project's own pytest-style tests. The test:

1. reads the lines to change from the page (the ``diff`` block right after a
   ``<!-- migration-lines -->`` marker: ``-`` lines are replaced by the ``+`` lines that
   follow them), so the page and this test cannot drift apart;
2. runs the project's tests against the real peer (they pass), then against the migrated
   project, with only the assertions the page's "What changes" table names adapted;
3. sends the same requests through the peer and through corsware, in the real framework,
   and checks that corsware's answer is the peer's with exactly the table's rows applied.
   Every row of the table is exercised, no row is a no-op, and no difference exists that
   the table does not list.

Each side runs in its own interpreter: Django's settings and flask-cors's globals are per
process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.docs_blocks import DOCS, ROOT, blocks

TIMEOUT = 120
MARKER = "<!-- migration-lines -->"
TABLE_HEADING = "### What changes"

# -- what the docs say -----------------------------------------------------------------------


def migration_lines(page: Path) -> list[tuple[str, str]]:
    """The (old line, new line) pairs of the page's marked ``diff`` blocks, stripped."""
    text = page.read_text(encoding="utf-8").splitlines()
    pairs: list[tuple[str, str]] = []
    for block in blocks(page):
        if block.language != "diff" or text[block.line - 2].strip() != MARKER:
            continue
        removed: list[str] = []
        for line in block.code.splitlines():
            if line.startswith("-"):
                removed.append(line[1:].strip())
            elif line.startswith("+"):
                assert removed, f"{block.id}: a '+' line without the '-' line it replaces: {line!r}"
                pairs.append((removed.pop(0), line[1:].strip()))
            else:
                assert not removed, f"{block.id}: '-' lines without a replacement: {removed}"
        assert not removed, f"{block.id}: '-' lines without a replacement: {removed}"
    assert pairs, f"{page.name}: no diff block after a {MARKER} line"
    return pairs


def migrate(source: str, page: Path) -> str:
    """``source`` with the page's lines changed: each line equal (indentation aside) to a
    ``-`` line becomes the ``+`` line, with the same indentation."""
    pairs = dict(migration_lines(page))
    out, changed = [], 0
    for line in source.splitlines():
        stripped = line.strip()
        if stripped in pairs:
            out.append(line[: len(line) - len(line.lstrip())] + pairs[stripped])
            changed += 1
        else:
            out.append(line)
    assert changed, f"none of the lines of {page.name} occur in the project"
    return "\n".join(out) + "\n"


def table_rows(page: Path) -> list[str]:
    """The name of every row of the page's "What changes" table: the bold start of its first cell."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = lines.index(TABLE_HEADING)
    rows: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not re.match(r"^\|[-| :]+\|$", line):
            cell = line.split("|")[1].strip()
            bold = re.match(r"\*\*(.+?)\*\*", cell)
            rows.append(bold.group(1) if bold else cell)
    assert len(rows) > 2, f"{page.name}: no table under {TABLE_HEADING!r}"
    return rows[1:]  # without the header row


# -- answers, and the rows that turn a peer's answer into corsware's -----------------------

Answer = dict[str, Any]  # {"status": int, "headers": {lower-case name: value}, "names": [raw names]}
PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)
SAFELISTED = ("accept", "accept-language", "content-language", "content-type")


def _cors_only(answer: Answer) -> Answer:
    headers = {k: v for k, v in answer["headers"].items() if not k.startswith("access-control-")}
    return {**answer, "headers": headers}


def _set(answer: Answer, name: str, value: str | None) -> Answer:
    headers = dict(answer["headers"])
    if value is None:
        headers.pop(name, None)
    else:
        headers[name] = value
    return {**answer, "headers": headers}


def _vary_with_origin(answer: Answer, _: Any) -> Answer:
    tokens = [t.strip() for t in re.split(r"[,\n]", answer["headers"].get("vary", "")) if t.strip()]
    tokens = [t for t in tokens if t.lower() != "origin"] + ["Origin"]
    return _set(answer, "vary", ", ".join(tokens))


def _vary_without_origin(answer: Answer, _: Any) -> Answer:
    tokens = [t.strip() for t in re.split(r"[,\n]", answer["headers"].get("vary", "")) if t.strip()]
    return _set(answer, "vary", ", ".join(t for t in tokens if t.lower() != "origin") or None)


def _listed_headers(configured: list[str]) -> str:
    """corsware's Access-Control-Allow-Headers for a list: the safelisted names the list
    lacks, then the list, lower case."""
    lowered = [name.lower() for name in configured]
    return ", ".join([s for s in SAFELISTED if s not in lowered] + lowered)


def _echoed_headers(answer: Answer, requested: str) -> Answer:
    """'*' with credentials: the requested names, lower case, sorted, comma-joined."""
    return _set(
        answer, "access-control-allow-headers", ",".join(sorted(n.strip().lower() for n in requested.split(",")))
    )


# A row's effect: (peer answer, argument) -> corsware answer.
Effect = Callable[[Answer, Any], Answer]
EFFECTS: dict[str, Effect] = {
    "preflight 204": lambda a, _: {**a, "status": 204},
    "refused 403": lambda a, _: {**_cors_only(a), "status": 403},
    "vary origin": _vary_with_origin,
    "no vary origin": _vary_without_origin,
    "preflight vary": lambda a, origin: _set(
        a, "vary", PREFLIGHT_VARY if origin else PREFLIGHT_VARY[len("Origin, ") :]
    ),
    "set": lambda a, kv: _set(a, kv[0], kv[1]),
    "listed headers": lambda a, configured: _set(a, "access-control-allow-headers", _listed_headers(configured)),
    "echoed headers": _echoed_headers,
    "drop": lambda a, name: _set(a, name, None),
    "no cors": lambda a, _: _cors_only(a),
    "status": lambda a, status: {**a, "status": status},
}


@dataclass(frozen=True)
class Request:
    """One request sent through both; ``rows`` are the table rows it shows, each with the
    effects that turn the peer's answer into corsware's."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # Django: override_settings for this request

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "headers": self.headers, "settings": self.settings}


def preflight(path: str, origin: str, method: str, request_headers: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers is not None:
        headers["Access-Control-Request-Headers"] = request_headers
    headers.update({k.replace("_", "-"): v for k, v in extra.items()})
    return headers


# -- running a project -----------------------------------------------------------------------

DRIVER = r"""
import json, os, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")  # the user's TestClient
kind, requests = sys.argv[1], json.loads(sys.argv[2])
if kind == "django":
    import django
    django.setup()
    from django.core import checks
import user_tests
for name in sorted(vars(user_tests)):
    if name.startswith("test_"):
        getattr(user_tests, name)()
client = user_tests.client
answers = []
for r in requests:
    if kind == "flask":
        response = client.open(r["path"], method=r["method"], headers=r["headers"])
        status, items = response.status_code, list(response.headers.items())
    elif kind == "django":
        from django.test import override_settings
        with override_settings(**r["settings"]):
            response = client.generic(r["method"], r["path"], headers=r["headers"])
        status, items = response.status_code, list(response.items())
    else:
        response = client.request(r["method"], r["path"], headers=r["headers"])
        status, items = response.status_code, list(response.headers.multi_items())
    kept = [(k, v) for k, v in items if k.lower().startswith("access-control-") or k.lower() == "vary"]
    headers = {}
    for k, v in kept:  # a header sent on several lines keeps them apart: "line 1\nline 2"
        headers[k.lower()] = headers[k.lower()] + "\n" + v if k.lower() in headers else v
    answers.append({"status": status, "headers": headers, "names": [k for k, _ in kept]})
print("ANSWERS" + json.dumps(answers))
if kind == "django":
    from django.test import override_settings
    found = []
    for overrides in json.loads(sys.argv[3]):
        with override_settings(**overrides):
            found.append([[m.id, m.msg] for m in checks.run_checks()])
    print("CHECKS" + json.dumps(found))
"""


def run_project(
    tmp: Path, kind: str, files: dict[str, str], requests: list[Request], checks: list[dict[str, Any]] | None = None
) -> list[Answer]:
    """Write the project, run its tests, send ``requests``; return the answers (Django: and
    the system checks' (id, message) pairs under each of ``checks``' settings, last)."""
    tmp.mkdir()
    for name, text in files.items():
        (tmp / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp / "driver.py").write_text(DRIVER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}", "PYTHONDONTWRITEBYTECODE": "1"}
    if kind == "django":
        env["DJANGO_SETTINGS_MODULE"] = "settings"
    proc = subprocess.run(
        [sys.executable, "driver.py", kind, json.dumps([r.as_json() for r in requests]), json.dumps(checks or [])],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, f"{kind} project in {tmp} failed:\n{proc.stdout}\n{proc.stderr}"
    (line,) = [line for line in proc.stdout.splitlines() if line.startswith("ANSWERS")]
    answers: list[Answer] = json.loads(line[len("ANSWERS") :])
    if kind == "django":
        (line,) = [line for line in proc.stdout.splitlines() if line.startswith("CHECKS")]
        answers.append({"checks": json.loads(line[len("CHECKS") :])})
    return answers


def adapt_tests(tests: str, adaptations: list[tuple[str, str, str]], rows: list[str]) -> str:
    """The project's tests with each (row, old line, new line) applied; each row is the table's."""
    for row, old, new in adaptations:
        assert row in rows, f"test adaptation for {row!r}, which is not a row of the table"
        assert tests.count(old) == 1, f"{old!r} must occur once in the project's tests"
        tests = tests.replace(old, new)
    return tests


def compare(page: Path, requests: list[Request], peer: list[Answer], ours: list[Answer]) -> set[str]:
    """Assert corsware's answers are the peer's with the requests' rows applied; return the
    rows shown."""
    rows = table_rows(page)
    shown: set[str] = set()
    problems: list[str] = []
    for request, before, after in zip(requests, peer, ours, strict=True):
        expected = {"status": before["status"], "headers": before["headers"]}
        for row, effects in request.rows.items():
            assert row in rows, f"{row!r} is not a row of the table of {page.name}"
            changed = expected
            for effect, arg in effects:
                changed = EFFECTS[effect](changed, arg)
            assert changed != expected, f"{request.method} {request.path}: row {row!r} changes nothing here"
            expected, _ = changed, shown.add(row)
        actual = {"status": after["status"], "headers": after["headers"]}
        if expected != actual:
            problems.append(
                f"{request.method} {request.path} {request.headers} {request.settings}\n"
                f"  peer:     {before}\n  expected: {expected}\n  corsware: {actual}"
            )
    assert not problems, "differences the table does not explain:\n" + "\n".join(problems)
    return shown


# -- (a) flask-cors --------------------------------------------------------------------------

FLASK_PAGE = DOCS / "flask.md"
APP, EVIL, PARTNER = "https://app.example.com", "https://evil.example", "https://partner.example.com"

FLASK_APP = """\
from flask import Blueprint, Flask, jsonify
from flask_cors import CORS, cross_origin

app = Flask(__name__)
CORS(
    app,
    resources={r"/api/*": {"origins": ["https://app.example.com", "http://localhost:3000"]}},
    supports_credentials=True,
)


@app.route("/api/items", methods=["GET", "POST", "PUT"])
def items():
    response = jsonify(items=[])
    response.headers["Vary"] = "Accept-Encoding"
    return response


@app.route("/public")
@cross_origin()
def public():
    return "public"


partner = Blueprint("partner", __name__)
CORS(partner, origins=["https://partner.example.com"], allow_headers=["Content-Type", "X-Custom"])


@partner.route("/data", methods=["GET", "DELETE"])
def data():
    return "data"


app.register_blueprint(partner, url_prefix="/partner")
"""

FLASK_TESTS = """\
from app import app

client = app.test_client()
APP = "https://app.example.com"


def test_the_front_end_reads_items_with_cookies():
    response = client.get("/api/items", headers={"Origin": APP})
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers.getlist("Vary")


def test_preflight_for_put():
    preflight = client.options(
        "/api/items",
        headers={"Origin": APP, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "Content-Type"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Methods"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type"


def test_other_sites_are_refused():
    refused = client.options("/api/items", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"})
    assert refused.status_code == 200
    assert "Access-Control-Allow-Origin" not in refused.headers
    actual = client.get("/api/items", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in actual.headers


def test_public_page_is_open_to_everyone():
    public = client.get("/public", headers={"Origin": "https://anyone.example"})
    assert public.headers["Access-Control-Allow-Origin"] == "https://anyone.example"


def test_partner_blueprint():
    data = client.get("/partner/data", headers={"Origin": "https://partner.example.com"})
    assert data.headers["Access-Control-Allow-Origin"] == "https://partner.example.com"
    assert "Access-Control-Allow-Origin" not in client.get("/partner/data", headers={"Origin": APP}).headers
"""

# (table row, line of the project's tests, what it becomes): nothing else is touched.
FLASK_ADAPTATIONS = [
    ("Vary", 'assert "Origin" in response.headers.getlist("Vary")', 'assert response.headers["Vary"] == "Accept-Encoding, Origin"'),
    ("Allowed preflight", "assert preflight.status_code == 200", "assert preflight.status_code == 204"),
    ("Access-Control-Allow-Methods", '"DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"', '"GET, HEAD, POST, OPTIONS, PUT, PATCH, DELETE"'),
    ("Access-Control-Allow-Headers", '["Access-Control-Allow-Headers"] == "Content-Type"', '["Access-Control-Allow-Headers"] == "content-type"'),
    ("Refused preflight", "assert refused.status_code == 200", "assert refused.status_code == 403"),
    ("Any origin", '== "https://anyone.example"', '== "*"'),
]  # fmt: skip

FLASK_METHODS = "GET, HEAD, POST, OPTIONS, PUT, PATCH, DELETE"  # flask-cors's default list, in its order
FLASK_REQUESTS = [
    Request("GET", "/api/items", {"Origin": APP}, {"Vary": [("set", ("vary", "Accept-Encoding, Origin"))]}),
    Request("GET", "/api/items", {"Origin": EVIL}, {"Vary": [("vary origin", None)]}),
    Request("GET", "/api/items", {}, {"Request without Origin": [("no cors", None)],
                                      "Vary": [("set", ("vary", "Accept-Encoding, Origin"))]}),
    Request("OPTIONS", "/api/items", preflight("/api/items", APP, "PUT", "content-type,Authorization,x-foo"), {
        "Allowed preflight": [("preflight 204", None)],
        "Access-Control-Allow-Methods": [("set", ("access-control-allow-methods", FLASK_METHODS))],
        "Access-Control-Allow-Headers": [("echoed headers", "content-type,Authorization,x-foo")],
        "Vary on preflights": [("preflight vary", True)],
    }),
    Request("OPTIONS", "/api/items", preflight("/api/items", EVIL, "PUT"), {
        "Refused preflight": [("refused 403", None)], "Vary on preflights": [("preflight vary", True)],
    }),
    Request("OPTIONS", "/api/items", preflight("/api/items", APP, "PUT", Access_Control_Request_Private_Network="true"), {
        "Private Network Access": [("refused 403", None)], "Vary on preflights": [("preflight vary", True)],
    }),
    Request("GET", "/api/items", {"Origin": APP, "Access-Control-Request-Private-Network": "true"}, {
        "Private Network Access": [("drop", "access-control-allow-private-network")],
        "Vary": [("set", ("vary", "Accept-Encoding, Origin"))],
    }),
    Request("GET", "/public", {"Origin": "https://anyone.example"}, {
        "Any origin": [("set", ("access-control-allow-origin", "*")), ("no vary origin", None)],
    }),
    Request("OPTIONS", "/public", preflight("/public", "https://anyone.example", "GET", "authorization"), {
        "Allowed preflight": [("preflight 204", None)],
        "Any origin": [("set", ("access-control-allow-origin", "*")), ("no vary origin", None)],
        "Access-Control-Allow-Methods": [("set", ("access-control-allow-methods", FLASK_METHODS))],
        "Access-Control-Allow-Headers": [("set", ("access-control-allow-headers", "*, authorization"))],
        "Vary on preflights": [("preflight vary", False)],
    }),
    Request("GET", "/api//items", {"Origin": APP}, {"Paths not in normal form": [("no cors", None)]}),
    Request("GET", "/partner/data", {"Origin": PARTNER}, {"Vary": [("vary origin", None)]}),
    Request("OPTIONS", "/partner/data", preflight("/partner/data", PARTNER, "DELETE", "X-Custom"), {
        "Allowed preflight": [("preflight 204", None)],
        "Access-Control-Allow-Methods": [("set", ("access-control-allow-methods", FLASK_METHODS))],
        "Access-Control-Allow-Headers": [("listed headers", ["Content-Type", "X-Custom"])],
        "Vary on preflights": [("preflight vary", True)],
    }),
    Request("OPTIONS", "/partner/data", preflight("/partner/data", PARTNER, "DELETE", "X-Other"), {
        "Preflight asking for a header not allowed": [("refused 403", None)],
        "Vary on preflights": [("preflight vary", True)],
    }),
    Request("GET", "/api/missing", {"Origin": APP}),  # Flask's 404: the same headers
    Request("GET", "/partner/data", {"Origin": APP}, {"Vary": [("vary origin", None)]}),  # the blueprint refuses
]  # fmt: skip


def _flask_cors_app(**options: Any) -> Any:
    """A flask-cors app and its corsware twin (built from the same keywords)."""
    import flask
    import flask_cors

    app = flask.Flask(__name__)
    flask_cors.CORS(app, **options)
    app.add_url_rule("/a", "a", lambda: "a", methods=["GET", "PUT"])
    return app


def _corsware_flask(**options: Any) -> Any:
    import flask

    from corsware.flask import CORS

    app = flask.Flask(__name__)
    CORS(app, **options)
    return app


def _start_up_refused(code: str) -> Callable[[dict[str, Any]], None]:
    def check(options: dict[str, Any]) -> None:
        from corsware import CORSConfigError

        with pytest.raises(CORSConfigError) as info:
            _corsware_flask(**options)
        assert code in info.value.codes

    return check


def _warned(code: str) -> Callable[[dict[str, Any]], None]:
    def check(options: dict[str, Any]) -> None:
        app = _corsware_flask(**options)
        assert code in [p.code for p in app.extensions["corsware"].policy.warnings]

    return check


# (table row, options, a request the peer allows with them, what corsware does instead)
FLASK_START_UP = [
    ("Any origin with credentials", {"supports_credentials": True}, "https://any.example", None,
     _start_up_refused("wildcard_origin_with_credentials")),
    ("Regex-looking origins", {"origins": [r"https://.*\.example\.com"]}, APP, None,
     _start_up_refused("origin_looks_like_regex")),
    ("Forbidden header names", {"origins": [APP], "allow_headers": ["Content-Type", "Accept-Encoding"]}, APP,
     "Accept-Encoding", _warned("forbidden_request_header")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "options", "origin", "header", "check"), FLASK_START_UP, ids=[r[0] for r in FLASK_START_UP]
)
def test_flask_start_up_rows(row: str, options: dict[str, Any], origin: str, header: str | None, check: Any) -> None:
    assert row in table_rows(FLASK_PAGE)
    peer = _flask_cors_app(**options).test_client()
    answer = (
        peer.options("/a", headers=preflight("/a", origin, "PUT", header))
        if header
        else peer.get("/a", headers={"Origin": origin})
    )
    assert answer.headers["Access-Control-Allow-Origin"] == origin  # flask-cors allows it
    if header:
        assert header in answer.headers["Access-Control-Allow-Headers"]
    if row == "Any origin with credentials":
        assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    check(options)


def test_flask_cors_project_moves_over_by_changing_the_import(tmp_path: Path) -> None:
    rows = table_rows(FLASK_PAGE)
    migrated_app = migrate(FLASK_APP, FLASK_PAGE)
    assert "flask_cors" not in migrated_app
    assert "corsware.flask" in migrated_app
    peer = run_project(tmp_path / "peer", "flask", {"app.py": FLASK_APP, "user_tests.py": FLASK_TESTS}, FLASK_REQUESTS)
    migrated_tests = adapt_tests(FLASK_TESTS, FLASK_ADAPTATIONS, rows)
    ours = run_project(
        tmp_path / "ours", "flask", {"app.py": migrated_app, "user_tests.py": migrated_tests}, FLASK_REQUESTS
    )
    shown = compare(FLASK_PAGE, FLASK_REQUESTS, peer, ours)
    covered = shown | {row for row, *_ in FLASK_START_UP}
    assert covered == set(rows), (
        f"rows the tests do not exercise: {set(rows) - covered}; unknown: {covered - set(rows)}"
    )


# -- (c) Starlette / FastAPI -----------------------------------------------------------------

STARLETTE_PAGE = DOCS / "starlette.md"

FASTAPI_APP = """\
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

app = FastAPI()

origins = ["https://app.example.com", "http://localhost:8080"]

app.add_middleware(
    CORSMiddleware,
    allow_origins=origins,
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)


@app.get("/items/")
async def read_items():
    return [{"name": "Katana"}]


@app.put("/items/{item_id}")
async def update_item(item_id: int):
    return {"id": item_id}


@app.get("/boom")
async def boom():
    raise RuntimeError("a bug")
"""

FASTAPI_TESTS = """\
from fastapi.testclient import TestClient

from main import app

client = TestClient(app, raise_server_exceptions=False)
APP = "https://app.example.com"


def test_read_items_with_cookies():
    response = client.get("/items/", headers={"Origin": APP})
    assert response.json() == [{"name": "Katana"}]
    assert response.headers["access-control-allow-origin"] == APP
    assert response.headers["access-control-allow-credentials"] == "true"


def test_preflight():
    preflight = client.options(
        "/items/1", headers={"Origin": APP, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "X-Token"}
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-headers"] == "X-Token"


def test_other_sites():
    refused = client.options("/items/1", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in client.get("/items/", headers={"Origin": "https://evil.example"}).headers
"""

STARLETTE_ADAPTATIONS = [
    ("Allowed preflight", "assert preflight.status_code == 200", "assert preflight.status_code == 204"),
    ("Access-Control-Allow-Headers", '== "X-Token"', '== "x-token"'),
    ("Refused preflight", "assert refused.status_code == 400", "assert refused.status_code == 403"),
]

STARLETTE_REFUSED = [("refused 403", None)]
STARLETTE_REQUESTS = [
    Request("GET", "/items/", {"Origin": APP}),
    Request("GET", "/items/", {}),
    Request("GET", "/items/", {"Origin": EVIL}, {"Refused origin on an actual request": [("no cors", None)]}),
    Request("OPTIONS", "/items/1", preflight("/items/1", APP, "PUT", "X-Token, content-type,Authorization"), {
        "Allowed preflight": [("preflight 204", None)],
        "Access-Control-Allow-Methods": [("set", ("access-control-allow-methods", "PUT"))],
        "Access-Control-Allow-Headers": [("echoed headers", "X-Token, content-type,Authorization")],
    }),
    Request("OPTIONS", "/items/1", preflight("/items/1", EVIL, "PUT"), {"Refused preflight": STARLETTE_REFUSED}),
    Request("OPTIONS", "/items/1", preflight("/items/1", APP, "PUT", Access_Control_Request_Private_Network="true"),
            {"Refused preflight": STARLETTE_REFUSED}),
    Request("GET", "/boom", {"Origin": APP}, {"Unhandled exception": [
        ("set", ("access-control-allow-origin", APP)), ("set", ("access-control-allow-credentials", "true")),
        ("vary origin", None),
    ]}),
    Request("GET", "/missing", {"Origin": APP}),
]  # fmt: skip


@pytest.mark.parametrize("module", ["starlette.middleware.cors", "fastapi.middleware.cors"])
def test_fastapi_project_moves_over_by_changing_the_import(module: str, tmp_path: Path) -> None:
    rows = table_rows(STARLETTE_PAGE)
    project = FASTAPI_APP.replace("starlette.middleware.cors", module)
    migrated = migrate(project, STARLETTE_PAGE)
    assert module not in migrated
    assert "from corsware.asgi import CORSMiddleware" in migrated
    peer = run_project(
        tmp_path / "peer", "asgi", {"main.py": project, "user_tests.py": FASTAPI_TESTS}, STARLETTE_REQUESTS
    )
    tests = adapt_tests(FASTAPI_TESTS, STARLETTE_ADAPTATIONS, rows)
    ours = run_project(tmp_path / "ours", "asgi", {"main.py": migrated, "user_tests.py": tests}, STARLETTE_REQUESTS)
    shown = compare(STARLETTE_PAGE, STARLETTE_REQUESTS, peer, ours)
    covered = shown | {row for row, *_ in STARLETTE_OTHER_CONFIGS}
    assert covered == set(rows), f"not exercised: {set(rows) - covered}; unknown: {covered - set(rows)}"


def _starlette_answers(module: str, options: dict[str, Any], requests: list[Request]) -> list[Answer]:
    """The answers of a FastAPI app with ``module``'s CORSMiddleware(**options), in process."""
    import asyncio
    import importlib

    import httpx
    from fastapi import FastAPI

    app = FastAPI()
    app.add_middleware(importlib.import_module(module).CORSMiddleware, **options)

    async def items() -> list[str]:
        return []

    app.add_api_route("/items", items, methods=["GET", "PUT"])

    async def send() -> list[Answer]:
        answers = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://api.test") as client:
            for r in requests:
                response = await client.request(r.method, r.path, headers=r.headers)
                kept = {k: v for k, v in response.headers.items() if k.startswith("access-control-") or k == "vary"}
                answers.append({"status": response.status_code, "headers": kept})
        return answers

    return asyncio.run(send())


ANYONE = "https://anyone.example"
# (table row, Starlette keywords, requests, or the code corsware refuses/warns with at start-up)
STARLETTE_OTHER_CONFIGS: list[tuple[str, dict[str, Any], list[Request] | str]] = [
    ("Any origin", {"allow_origins": ["*"], "allow_headers": ["*"], "allow_methods": ["*"]}, [
        Request("GET", "/items", {"Origin": ANYONE}, {"Any origin": [("no vary origin", None)]}),
        Request("GET", "/items", {}, {"Any origin": [("set", ("access-control-allow-origin", "*")), ("no vary origin", None)]}),
        Request("OPTIONS", "/items", preflight("/items", ANYONE, "PUT", "X-Token,authorization"), {
            "Allowed preflight": [("preflight 204", None)],
            "Any origin": [("preflight vary", False)],
            "Access-Control-Allow-Methods": [("set", ("access-control-allow-methods", "*"))],
            "Access-Control-Allow-Headers": [("set", ("access-control-allow-headers", "*, authorization"))],
        }),
    ]),
    ("Access-Control-Allow-Headers", {"allow_origins": [APP], "allow_headers": ["X-Token", "Content-Type"],
                                      "allow_methods": ["GET", "PUT"]}, [
        Request("OPTIONS", "/items", preflight("/items", APP, "PUT", "x-token"), {
            "Allowed preflight": [("preflight 204", None)],
            "Access-Control-Allow-Headers": [("listed headers", ["X-Token", "Content-Type"])],
        }),
        Request("OPTIONS", "/items", preflight("/items", APP, "PUT", "x-other"), {"Refused preflight": STARLETTE_REFUSED}),
        Request("OPTIONS", "/items", preflight("/items", APP, "DELETE"), {"Refused preflight": STARLETTE_REFUSED}),
    ]),
    ("Any origin with credentials", {"allow_origins": ["*"], "allow_credentials": True}, "wildcard_origin_with_credentials"),
    ("Regex-looking origins", {"allow_origins": [r"https://.*\.example\.com"]}, "origin_looks_like_regex"),
    ("Forbidden header names", {"allow_origins": [APP], "allow_headers": ["Accept-Encoding"]}, "forbidden_request_header"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "options", "then"), STARLETTE_OTHER_CONFIGS, ids=[c[0] for c in STARLETTE_OTHER_CONFIGS]
)
def test_starlette_other_configurations(row: str, options: dict[str, Any], then: list[Request] | str) -> None:
    from corsware import CORSConfigError, CORSPolicy
    from corsware.asgi import CORSMiddleware

    assert row in table_rows(STARLETTE_PAGE)
    if isinstance(then, list):
        peer = _starlette_answers("starlette.middleware.cors", options, then)
        ours = _starlette_answers("corsware.asgi", options, then)
        assert row in compare(STARLETTE_PAGE, then, peer, ours)
        return
    probe = Request("GET", "/items", {"Origin": APP})
    # Starlette starts with these keywords (a regex-looking string is a literal that never matches).
    assert _starlette_answers("starlette.middleware.cors", options, [probe])[0]["status"] == 200
    if then == "forbidden_request_header":
        assert then in [p.code for p in CORSMiddleware(None, **options).policy.warnings]  # type: ignore[arg-type]
    else:
        with pytest.raises(CORSConfigError) as info:
            CORSPolicy(**options)
        assert then in info.value.codes


# -- (b) django-cors-headers -----------------------------------------------------------------

DJANGO_PAGE = DOCS / "django.md"

DJANGO_SETTINGS = """\
from corsheaders.defaults import default_headers

SECRET_KEY = "not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "urls"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "corsheaders",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = (*default_headers, "x-custom")
CSRF_TRUSTED_ORIGINS = ["https://app.example.com"]
"""

DJANGO_URLS = """\
from django.http import JsonResponse
from django.urls import path
from django.utils.cache import patch_vary_headers


def items(request):
    response = JsonResponse({"items": []})
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


urlpatterns = [path("api/items", items)]
"""

DJANGO_TESTS = """\
from django.core import checks
from django.test import Client

client = Client()
APP = "https://app.example.com"


def test_settings_pass_the_checks():
    assert checks.run_checks() == []


def test_front_end_reads_items_with_cookies():
    response = client.get("/api/items", headers={"Origin": APP})
    assert response["Access-Control-Allow-Origin"] == APP
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert response["Vary"] == "Accept-Encoding, origin"


def test_preflight():
    preflight = client.options(
        "/api/items", headers={"Origin": APP, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-custom"}
    )
    assert preflight.status_code == 200
    assert "x-custom" in preflight["Access-Control-Allow-Headers"]


def test_other_sites_are_refused():
    refused = client.options("/api/items", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"})
    assert refused.status_code == 200
    assert not refused.has_header("Access-Control-Allow-Origin")
"""

DJANGO_ADAPTATIONS = [
    ("Vary", '== "Accept-Encoding, origin"', '== "Accept-Encoding, Origin"'),
    ("Allowed preflight", "assert preflight.status_code == 200", "assert preflight.status_code == 204"),
    ("Refused preflight", "assert refused.status_code == 200", "assert refused.status_code == 403"),
]

DEFAULT_HEADERS = ["accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with"]
DJANGO_VARY = [("set", ("vary", "Accept-Encoding, Origin"))]
ALL = {"CORS_ALLOW_ALL_ORIGINS": True, "CORS_ALLOW_CREDENTIALS": False}
DJANGO_REQUESTS = [
    Request("GET", "/api/items", {"Origin": APP}, {"Vary": DJANGO_VARY}),
    Request("GET", "/api/items", {"Origin": EVIL}, {"Vary": DJANGO_VARY}),
    Request("GET", "/api/items", {}, {"Vary": DJANGO_VARY}),
    Request("OPTIONS", "/api/items", preflight("/api/items", APP, "PUT", "content-type,x-custom"), {
        "Allowed preflight": [("preflight 204", None)],
        "Access-Control-Allow-Headers": [("listed headers", [*DEFAULT_HEADERS, "x-custom"])],
        "Vary on preflights": [("preflight vary", True)],
    }),
    Request("OPTIONS", "/api/items", preflight("/api/items", APP, "PUT", "x-other"), {
        "Preflight asking for a header not allowed": [("refused 403", None)],
        "Vary on preflights": [("preflight vary", True)],
    }),
    Request("OPTIONS", "/api/items", preflight("/api/items", EVIL, "PUT"), {
        "Refused preflight": [("refused 403", None)], "Vary on preflights": [("preflight vary", True)],
    }),
    Request("OPTIONS", "/api/items", preflight("/api/items", APP, "PUT", Access_Control_Request_Private_Network="true"), {
        "Private Network Access": [("refused 403", None)], "Vary on preflights": [("preflight vary", True)],
    }),
    Request("GET", "/api/items", {"Origin": APP, "Access-Control-Request-Private-Network": "true"}, {
        "Private Network Access": [("drop", "access-control-allow-private-network")], "Vary": DJANGO_VARY,
    }, {"CORS_ALLOW_PRIVATE_NETWORK": True}),
    Request("OPTIONS", "/api/items", preflight("/api/items", APP, "PUT", Access_Control_Request_Private_Network="true"), {
        "Allowed preflight": [("preflight 204", None)],
        "Access-Control-Allow-Headers": [("listed headers", [*DEFAULT_HEADERS, "x-custom"])],
        "Vary on preflights": [("preflight vary", True)],
    }, {"CORS_ALLOW_PRIVATE_NETWORK": True}),
    Request("GET", "/api/items", {"Origin": APP}, {"Any origin": [("no vary origin", None)]}, ALL),
    Request("GET", "/api/items", {}, {"Any origin": [("set", ("access-control-allow-origin", "*")),
                                                     ("no vary origin", None)]}, ALL),
    Request("OPTIONS", "/api/items", preflight("/api/items", APP, "PUT", "authorization,x-custom"), {
        "Allowed preflight": [("preflight 204", None)],
        "Access-Control-Allow-Headers": [("set", ("access-control-allow-headers", "*, authorization"))],
        "Any origin": [("preflight vary", False)],
    }, {**ALL, "CORS_ALLOW_HEADERS": ["*"]}),
    # CORS_URLS_REGEX gates CORS on path_info as sent, in both.
    Request("GET", "/api//items", {"Origin": APP}, {"Vary": [("set", ("vary", "Origin"))]}, {"CORS_URLS_REGEX": r"^/api/.*$"}),
    Request("GET", "/missing", {"Origin": APP}, {"Vary": [("set", ("vary", "Origin"))]}),
]  # fmt: skip

# (table row, settings, a check id django-cors-headers reports (or None: it starts silently),
#  what corsware's checks say: (id, text in the message))
DJANGO_CHECKS: list[tuple[str, dict[str, Any], str | None, tuple[str, str]]] = [
    ("System check ids", {"CORS_ALLOWED_ORIGINS": ["https://app.example.com/"]}, "corsheaders.E014",
     ("corsware.E002", "[origin_trailing_slash]")),
    ("Any origin with credentials", {"CORS_ALLOW_ALL_ORIGINS": True}, None,
     ("corsware.E002", "[wildcard_origin_with_credentials]")),
    ("Regex-looking origins", {"CORS_ALLOWED_ORIGINS": [r"https://.*\.example\.com"]}, None,
     ("corsware.E002", "[origin_looks_like_regex]")),
    ("Forbidden header names", {"CORS_ALLOW_HEADERS": [*DEFAULT_HEADERS, "accept-encoding"]}, None,
     ("corsware.W008", "[forbidden_request_header]")),
]  # fmt: skip


def test_django_cors_headers_project_moves_over_by_changing_the_settings_lines(tmp_path: Path) -> None:
    rows = table_rows(DJANGO_PAGE)
    migrated = migrate(DJANGO_SETTINGS, DJANGO_PAGE)
    assert "corsheaders" not in migrated
    checks = [settings for _, settings, *_ in DJANGO_CHECKS]
    files = {"settings.py": DJANGO_SETTINGS, "urls.py": DJANGO_URLS, "user_tests.py": DJANGO_TESTS}
    *peer, peer_checks = run_project(tmp_path / "peer", "django", files, DJANGO_REQUESTS, checks)
    files = {**files, "settings.py": migrated, "user_tests.py": adapt_tests(DJANGO_TESTS, DJANGO_ADAPTATIONS, rows)}
    *ours, our_checks = run_project(tmp_path / "ours", "django", files, DJANGO_REQUESTS, checks)
    shown = compare(DJANGO_PAGE, DJANGO_REQUESTS, peer, ours)

    for (row, _, peer_id, (our_id, text)), before, after in zip(
        DJANGO_CHECKS, peer_checks["checks"], our_checks["checks"], strict=True
    ):
        assert row in rows
        assert [m_id for m_id, _ in before] == ([peer_id] if peer_id else []), (row, before)
        assert any(m_id == our_id and text in msg for m_id, msg in after), (row, after)
        shown.add(row)

    # django-cors-headers writes its header names in lower case; corsware as the standards do.
    names = {name for answer in peer for name in answer["names"] if name.lower().startswith("access-control-")}
    assert names == {n.lower() for n in names}
    ours_names = {name for answer in ours for name in answer["names"] if name.lower().startswith("access-control-")}
    assert "Access-Control-Allow-Origin" in ours_names
    assert not {n for n in ours_names if n == n.lower()}
    shown.add("Header name case")
    assert shown == set(rows), f"not exercised: {set(rows) - shown}; unknown: {shown - set(rows)}"


def test_flask_cors_defaults_start_without_warnings() -> None:
    """flask-cors's default allow_headers='*' is corsware's '*': no warning about a line the
    user never wrote (it was translated to ['*', 'Authorization'] before)."""
    app = _corsware_flask()
    assert app.extensions["corsware"].policy.warnings == ()
