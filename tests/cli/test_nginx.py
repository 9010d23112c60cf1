"""The nginx export, run for real: nginx enforces the shared HTTP case table.

One nginx per distinct policy (cases are grouped by policy). Cases whose policy nginx
cannot express must be refused by the exporter; a few cases are about the app's own
behaviour, not the policy, and are excluded with the reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corsware import CORSPolicy
from corsware.cli._nginx import NginxConfig, NotExportable, export_nginx

from ..support.cases import APP, EVIL, PARAMS, Case
from ..support.checks import check
from ..support.ci import need_executable
from ..support.cli import corsware
from ..support.drivers import Request
from ..support.nginx import nginx_version, nginx_with, send

pytestmark = pytest.mark.server

#: Cases about the app's behaviour, which a static upstream cannot play.
APP_BEHAVIOUR = {
    "/raise": "an app exception is a Python-middleware concern (nginx sees a 500 from upstream)",
    "/stream": "streaming is the upstream's business; nginx passes bodies through",
    "/vary": "nginx adds its own Vary line instead of merging into the upstream's (equivalent, RFC 9110 §5.3)",
}
#: Where nginx's answer legitimately differs in form from corsware's.
OVERRIDES = {
    # corsware normalises the reflected names (lower case, sorted); nginx reflects the
    # value as sent, which browsers already send lower-cased and sorted (Fetch).
    "'*' headers with credentials reflect the names asked": {"access-control-allow-headers": "X-B, authorization,x-a"},
}


def _key(policy: CORSPolicy) -> str:
    return json.dumps(policy.describe(), sort_keys=True, default=str)


NGINX_PARAMS = [p for p in PARAMS if p.values[0].path not in APP_BEHAVIOUR]


def test_exclusions_name_real_cases() -> None:
    """The exclusions and overrides refer to cases that exist (a typo would hide a case)."""
    ids = {p.id for p in PARAMS}
    assert set(OVERRIDES) <= ids
    assert len(NGINX_PARAMS) == len(PARAMS) - sum(p.values[0].path in APP_BEHAVIOUR for p in PARAMS)
    assert len(NGINX_PARAMS) >= 50


@pytest.fixture(scope="module")
def nginx_pool() -> Iterator[tuple[str, dict[str, int], contextlib.ExitStack]]:
    """nginx's path, and the servers started so far (one per policy), stopped at the end."""
    binary = need_executable("nginx", "the nginx round trip of `corsware export nginx`")
    with contextlib.ExitStack() as stack:
        yield binary, {}, stack


@pytest.mark.parametrize("case", NGINX_PARAMS)
def test_nginx_case(case: Case, nginx_pool: tuple[str, dict[str, int], contextlib.ExitStack]) -> None:
    binary, ports, stack = nginx_pool
    policy = CORSPolicy(**case.policy)
    if "allow_origin_callback" in case.policy:
        with pytest.raises(NotExportable) as info:
            export_nginx(policy)
        assert [p.code for p in info.value.problems] == ["not_exportable"]
        assert "callback" in str(info.value)
        return
    if policy.describe()["allow_headers"] and any("*" in h and h != "*" for h in policy.describe()["allow_headers"]):
        # Header-name patterns are matched in Python: the export refuses them by name.
        with pytest.raises(NotExportable) as info:
            export_nginx(policy)
        assert [p.code for p in info.value.problems] == ["not_exportable"]
        assert "header-name pattern" in str(info.value)
        return
    key = _key(policy)
    if key not in ports:
        ports[key] = stack.enter_context(nginx_with(binary, export_nginx(policy)))
    resp = send(ports[key], Request(case.method, case.path, case.headers))
    if case.repeated_headers and nginx_version(binary) < (1, 23, 0):
        # nginx < 1.23 exposes only the first of repeated headers in $http_origin (browsers
        # send one): the documented limitation is that it answers exactly as for that one.
        first = [case.headers[0], *(h for h in case.headers[1:] if h[0].lower() != "origin")]
        single = send(ports[key], Request(case.method, case.path, first))
        cors = [(k, v) for k, v in resp.headers if k.startswith("access-control-") or k == "vary"]
        assert cors == [(k, v) for k, v in single.headers if k.startswith("access-control-") or k == "vary"]
        assert (resp.status, resp.app_called) == (single.status, single.app_called)
        return
    expected = dataclasses.replace(case, expect={**case.expect, **OVERRIDES.get(case.id, {})})
    check(expected, resp)


def test_cli_export_then_probe_through_nginx(tmp_path: Path, nginx_pool: tuple[str, dict[str, int], Any]) -> None:
    """The user's path: `corsware export nginx -o DIR`, include the files, `corsware probe` it."""
    binary = nginx_pool[0]
    policy = tmp_path / "cors.toml"
    policy.write_text(
        'allow_origins = ["https://app.example.com"]\nallow_methods = ["GET", "PUT"]\n'
        'allow_headers = ["Authorization"]\nallow_credentials = true\n'
        '[paths."/public/*"]\nallow_origins = ["*"]\n'
    )
    out = tmp_path / "conf"
    assert corsware("export", "nginx", str(policy), "-o", str(out)).code == 0
    config = NginxConfig((out / "corsware-maps.conf").read_text(), (out / "corsware-cors.conf").read_text(), "corsware")
    with nginx_with(binary, config) as port:
        base = f"http://127.0.0.1:{port}"
        ok = corsware("probe", f"{base}/api/x", "--origin", APP, "--method", "PUT", "-H", "Authorization: t",
                      "--credentials", "--json")  # fmt: skip
        assert ok.code == 0, ok.out
        assert ok.json["preflight"]["status"] == 204
        refused = corsware("probe", f"{base}/api/x", "--origin", EVIL, "--method", "PUT", "--json")
        assert refused.code == 1
        assert refused.json["preflight"]["status"] == 403
        public = corsware("probe", f"{base}/public/feed", "--origin", EVIL, "--credentials", "--json")
        assert [f["code"] for f in public.json["failures"]] == ["wildcard_with_credentials"]


#: Origin regexes whose groups matter, and origins corsware admits and refuses with them.
#: The exporter used to put the origin shape's three groups in front of the user's, so '\1'
#: meant the request's scheme: nginx admitted https://app-https.example.com, which corsware
#: refuses. Named groups became nginx variables ('host' stopped nginx from starting).
BACKREFERENCE_REGEXES = {
    "numbered \\1": (
        r"https://(app|api)-\1\.example\.com",
        ["https://app-app.example.com", "https://api-api.example.com", "https://app-api.example.com",
         "https://app-https.example.com", "https://api-app.example.com"],
    ),
    "numbered \\2": (
        r"https://(eu|us)\.(a|b)-\2\.example\.com",
        ["https://eu.a-a.example.com", "https://us.b-b.example.com", "https://eu.a-b.example.com",
         "https://eu.a-eu.a-a.example.com.example.com", "https://us.b-us.example.com"],
    ),
    "named (?P=name)": (
        r"https://(?P<sub>app|api)-(?P=sub)\.example\.com",
        ["https://app-app.example.com", "https://app-api.example.com", "https://app-https.example.com"],
    ),
    "a group named host": (
        r"https://(?P<host>app|api)\.example\.com(?::(?P<port>[0-9]+))?",
        ["https://app.example.com", "https://api.example.com:8443", "https://evil.example.com"],
    ),
    "condition on a named group": (
        r"https://(?P<www>www\.)?app(?(www)-www)\.example\.com",
        ["https://app.example.com", "https://www.app-www.example.com", "https://www.app.example.com",
         "https://app-www.example.com"],
    ),
}  # fmt: skip
_ORIGIN_OK = re.compile(r'^    "~\^0:(?P<regex>(?:[^"\\]|\\.)*)" 1;$', re.MULTILINE)


def _corsware_admits(policy: CORSPolicy, origin: str) -> bool:
    return policy.evaluate("GET", "/", {"Origin": origin}).header("Access-Control-Allow-Origin") == origin


def _backreference_policy(regex: str) -> CORSPolicy:
    return CORSPolicy(allow_origin_regex=[regex], allow_methods=["GET"])


@pytest.mark.parametrize("name", list(BACKREFERENCE_REGEXES))
def test_nginx_export_keeps_regex_group_numbers(name: str) -> None:
    """Security finding: the export renumbered regex groups, so nginx admitted origins corsware refuses.

    Checked here with Python's re on the exported PCRE (the same syntax for these regexes),
    so it runs without nginx; the round trip below runs the real nginx.
    """
    regex, origins = BACKREFERENCE_REGEXES[name]
    policy = _backreference_policy(regex)
    block = next(b for b in export_nginx(policy).maps.split("\n\n") if " $corsware_origin_ok {" in b)
    exported = [m.group("regex").replace('\\"', '"').replace("\\\\", "\\") for m in _ORIGIN_OK.finditer(block)]
    assert len(exported) == 1, exported
    assert "?P<" not in exported[0], "named groups become nginx variables"
    python = re.compile(exported[0].replace("\\z", "\\Z"))
    assert python.groups == policy.settings.regexes[0].groups  # the user's numbering, nothing added in front
    verdicts = {origin: _corsware_admits(policy, origin) for origin in origins}
    assert True in verdicts.values(), verdicts
    assert False in verdicts.values(), verdicts
    assert {origin: python.fullmatch(origin) is not None for origin in origins} == verdicts


@pytest.mark.parametrize("name", list(BACKREFERENCE_REGEXES))
def test_nginx_admits_exactly_the_origins_corsware_admits_with_backreferences(
    name: str, nginx_pool: tuple[str, dict[str, int], contextlib.ExitStack]
) -> None:
    """The same, through a real nginx: the exported maps decide like corsware, origin by origin."""
    binary, ports, stack = nginx_pool
    regex, origins = BACKREFERENCE_REGEXES[name]
    policy = _backreference_policy(regex)
    key = _key(policy)
    if key not in ports:
        ports[key] = stack.enter_context(nginx_with(binary, export_nginx(policy)))
    for origin in origins:
        resp = send(ports[key], Request("GET", "/", [("Origin", origin)]))
        admitted = resp.values("access-control-allow-origin") == [origin]
        assert admitted == _corsware_admits(policy, origin), origin
