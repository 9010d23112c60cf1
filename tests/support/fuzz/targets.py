"""Fuzz targets: each takes arbitrary bytes, drives one request-time part of corsware, and
asserts the invariants that must hold whatever a client sends.

They are plain functions, so the same targets run under atheris (coverage-guided, see
``tests/support/fuzz/run.py`` and ``make fuzz``) and under the hypothesis fallback loop.

Invariants, for every input:
- nothing raises (a hostile request is refused, never an exception);
- a response header never carries CR, LF or NUL (no header injection or splitting);
- ``Access-Control-Allow-Origin`` is only ever ``*`` or the request's own Origin;
- a response without ``Access-Control-Allow-Origin`` carries no other CORS header (no
  ``-Allow-Credentials``, ``-Expose-Headers``, ``-Allow-Private-Network``...);
- the adapters add exactly the CORS headers and status the core decided (differential);
- each adapter starts exactly one response.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from corsware import CORSPolicy, RequestKind
from corsware._headers import MAX_REQUEST_HEADERS_LENGTH, is_token, parse_request_headers
from corsware._origins import OriginPattern, parse_origin_pattern, parse_request_origin
from corsware.asgi import CORSMiddleware as ASGIMiddleware
from corsware.wsgi import CORSMiddleware as WSGIMiddleware

APP = "https://app.example.com"

#: The policies every decision target is checked against: exact + subdomain pattern +
#: port pattern + regex + credentials + path rules, a '*' policy, a wildcard-headers one.
POLICIES: tuple[CORSPolicy, ...] = (
    CORSPolicy(
        allow_origins=[APP, "https://*.example.com", "http://localhost:*"],
        allow_origin_regex=r"https://[a-z0-9-]+\.example\.org",
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Content-Type", "Authorization"],
        expose_headers=["X-Request-Id"],
        allow_credentials=True,
        allow_private_network=True,
        paths={"/public/*": {"allow_origins": ["*"]}, "/files/a b": {"allow_origins": [APP]}},
    ),
    CORSPolicy(allow_origins=["*"], allow_methods="*", allow_headers="*", expose_headers="*"),
    CORSPolicy(allow_origins=["https://*.example.com"], allow_headers="*", preflight_cache_size=64),
)

_SEP = b"\n"
_KV = b":"


def split_request(data: bytes) -> tuple[str, str, list[tuple[str, str]], int]:
    """Turn arbitrary bytes into (method, path, headers, policy index).

    Line 1 is the method, line 2 the path, each further line ``name:value``. The first
    byte picks the policy. Biased toward CORS headers so the fuzzer reaches the preflight
    logic quickly: a one-letter name ``o``/``m``/``h``/``p`` stands for Origin,
    Access-Control-Request-Method/-Headers/-Private-Network.
    """
    which = data[0] % len(POLICIES) if data else 0
    lines = data[1:].split(_SEP)
    method = lines[0].decode("latin-1") if lines else "GET"
    path = lines[1].decode("latin-1") if len(lines) > 1 else "/"
    short = {
        "o": "Origin",
        "m": "Access-Control-Request-Method",
        "h": "Access-Control-Request-Headers",
        "p": "Access-Control-Request-Private-Network",
    }
    headers: list[tuple[str, str]] = []
    for line in lines[2:]:
        name, _, value = line.partition(_KV)
        text = name.decode("latin-1")
        headers.append((short.get(text, text), value.decode("latin-1")))
    return method, path, headers, which


def _check_headers(pairs: Iterable[tuple[str, str]], origins: Sequence[str]) -> None:
    names = set()
    for name, value in pairs:
        low = name.lower()
        names.add(low)
        assert not any(c in value for c in "\r\n\x00"), f"control character in {name}: {value!r}"
        assert not any(c in name for c in "\r\n\x00:"), f"bad header name {name!r}"
        if low == "access-control-allow-origin":
            assert value == "*" or value in origins, f"ACAO {value!r} is not the request's origin {origins!r}"
    if "access-control-allow-origin" not in names:
        # Starlette #2560: without ACAO (a refused origin) none of these may be sent.
        leaked = names - {"vary", "content-type", "content-length"}
        assert not leaked, f"refused request leaked {leaked}"


def _cors_view(pairs: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], set[str]]:
    """The CORS part of a response: Access-Control-* pairs and the Vary tokens."""
    cors = sorted((k.lower(), v) for k, v in pairs if k.lower().startswith("access-control-"))
    vary = {t.strip().lower() for k, v in pairs if k.lower() == "vary" for t in v.split(",") if t.strip()}
    return cors, vary


def _comparable(headers: Sequence[tuple[str, str]]) -> bool:
    """Whether core and adapters must agree exactly on this request.

    Not when a CORS header is repeated (servers join repeated headers, the core keeps the
    last Access-Control-Request-Method) or a name has '_' (WSGI cannot tell it from '-').
    """
    names = [k.lower() for k, _ in headers]
    cors = [n for n in names if n == "origin" or n.startswith("access-control-request-")]
    return len(cors) == len(set(cors)) and not any("_" in n for n in names)


def _origins_of(headers: Sequence[tuple[str, str]]) -> list[str]:
    found = [v for k, v in headers if k.lower() == "origin"]
    return [", ".join(found)] if found else []


# -- targets ------------------------------------------------------------------------------


def fuzz_request_headers(data: bytes) -> None:
    """``parse_request_headers``: bounded, and its output is sorted unique lower-case tokens."""
    raw = data.decode("latin-1")
    result = parse_request_headers(raw)
    if result is None:
        return
    assert len(raw) <= MAX_REQUEST_HEADERS_LENGTH
    assert list(result) == sorted(set(result))
    for name in result:
        assert is_token(name), name
        assert name == name.lower()
        assert name in raw.lower()


def fuzz_request_origin(data: bytes) -> None:
    """``parse_request_origin`` and the matcher: an allowed origin is reflected byte for byte."""
    origin = data.decode("latin-1")
    parts = parse_request_origin(origin)
    if parts is not None:
        scheme, host, port = parts
        assert origin == f"{scheme}://{host}" + ("" if port is None else f":{port}")
    for policy in POLICIES:
        decision = policy.evaluate("GET", "/", [("Origin", origin)])
        assert decision.kind is RequestKind.ACTUAL
        _check_headers(decision.headers, [origin])


def fuzz_origin_pattern(data: bytes) -> None:
    """``parse_origin_pattern`` on arbitrary text: a Problem or a pattern that re-parses to itself."""
    text = data.decode("utf-8", "replace")
    result = parse_origin_pattern(text, "allow_origins")
    if isinstance(result, OriginPattern):
        assert parse_origin_pattern(result.text, "allow_origins") == result
        assert result.text.isascii()
    else:
        assert result.code.startswith("origin_"), result.code


def fuzz_evaluate(data: bytes) -> None:
    """The whole decision function (``policy.evaluate``) with arbitrary method, path, headers."""
    method, path, headers, which = split_request(data)
    policy = POLICIES[which]
    decision = policy.evaluate(method, path, headers)
    origins = _origins_of(headers)
    _check_headers(decision.headers, origins)
    if decision.kind is RequestKind.PREFLIGHT:
        assert decision.status in (204, 403)
        assert not decision.reaches_app
        assert decision.allowed == (decision.status == 204)
    else:
        assert decision.reaches_app
        assert decision.status is None
    if decision.kind is RequestKind.NOT_CORS:
        assert not decision.allowed


def _wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*")])
    return [b"ok"]


def fuzz_wsgi(data: bytes) -> None:
    """The WSGI adapter with arbitrary header bytes, as a server hands them over."""
    method, path, headers, which = split_request(data)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }
    for name, value in headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    starts: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        starts.append((status, response_headers))
        return lambda _data: None

    mw = WSGIMiddleware(_wsgi_app, POLICIES[which])
    body = b"".join(mw(environ, start_response))
    assert len(starts) == 1, starts
    status, response_headers = starts[0]
    origin = environ.get("HTTP_ORIGIN")
    decision = POLICIES[which].evaluate(method, path, headers)
    _check_headers(response_headers, [] if origin is None else [origin])
    if decision.kind is RequestKind.PREFLIGHT:
        assert body == b"", "a preflight answer has no body"
    if _comparable(headers):
        # Differential: the adapter applies exactly what the core decided.
        assert _cors_view(response_headers) == _cors_view(decision.headers), (response_headers, decision)
        assert int(status[:3]) == (decision.status or 200)


async def _asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"access-control-allow-origin", b"*")]})
    await send({"type": "http.response.body", "body": b"ok"})


def fuzz_asgi(data: bytes) -> None:
    """The ASGI adapter with arbitrary raw header bytes (names lower-cased, as servers do)."""
    which = data[0] % len(POLICIES) if data else 0
    lines = data[1:].split(_SEP)
    method = lines[0].decode("latin-1") if lines else "GET"
    path = lines[1].decode("latin-1") if len(lines) > 1 else "/"
    short = {
        b"o": b"origin",
        b"m": b"access-control-request-method",
        b"h": b"access-control-request-headers",
        b"p": b"access-control-request-private-network",
    }
    raw: list[tuple[bytes, bytes]] = []
    for line in lines[2:]:
        name, _, value = line.partition(_KV)
        raw.append((short.get(name, name.lower()), value))
    scope = {"type": "http", "method": method, "path": path, "headers": raw, "scheme": "http", "query_string": b""}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(ASGIMiddleware(_asgi_app, POLICIES[which])(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    origins = [v for k, v in raw if k == b"origin"]
    origin = b", ".join(origins).decode("latin-1") if origins else None
    text = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in starts[0]["headers"]]
    core_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
    decision = POLICIES[which].evaluate(method, path, core_headers)
    _check_headers(text, [] if origin is None else [origin])
    if _comparable(core_headers):
        assert _cors_view(text) == _cors_view(decision.headers), (text, decision)
        assert starts[0]["status"] == (decision.status or 200)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "request_headers": fuzz_request_headers,
    "request_origin": fuzz_request_origin,
    "origin_pattern": fuzz_origin_pattern,
    "evaluate": fuzz_evaluate,
    "wsgi": fuzz_wsgi,
    "asgi": fuzz_asgi,
}

#: Seed inputs per target (libFuzzer mutates from these; the fallback loop starts with them).
SEEDS: dict[str, list[bytes]] = {
    "request_headers": [b"content-type,authorization", b" X-A ,, x-b\t", b"," * 64, b"x a"],
    "request_origin": [APP.encode(), b"https://a.b.example.com", b"http://localhost:5173", b"null", b"https://[::1]:8"],
    "origin_pattern": [b"https://*.example.com", b"http://localhost:*", b"HTTPS://A.com:443/", b"https://[::1]"],
    "evaluate": [
        b"\x00OPTIONS\n/\no:https://app.example.com\nm:PUT\nh:content-type,authorization\np:true",
        b"\x00GET\n/public/x\no:https://a.example.com",
        b"\x01OPTIONS\n/\no:null\nm:PURGE\nh:x-a",
        b"\x02OPTIONS\n/\no:https://a.example.com\nm:GET\nh:authorization,x-a",
    ],
}
SEEDS["wsgi"] = SEEDS["evaluate"]
SEEDS["asgi"] = SEEDS["evaluate"]
