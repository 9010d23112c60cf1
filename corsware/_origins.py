"""Origins: the strict parser for configured patterns, and the compiled ``OriginMatcher``.

Configured origins are *parsed*, not guessed: each entry is an exact serialised origin
(``https://app.example.com``), a subdomain pattern (``https://*.example.com``, one or more
whole DNS labels), or a port pattern (``http://localhost:*``). Regexes are a separate
option, always matched with ``fullmatch``. All of it is compiled once; at request time an
exact origin costs one set lookup.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from . import _psl
from ._callback import call_origin_callback
from ._errors import Fix, Problem
from ._regex_witness import witness_pairs

__all__ = [
    "MAX_ORIGIN_LENGTH",
    "OriginMatcher",
    "OriginPattern",
    "is_loopback_host",
    "is_own_origin",
    "is_public_suffix",
    "parse_origin_pattern",
    "parse_request_origin",
    "public_suffix_of",
    "regex_problems",
    "registrable_domain",
    "split_host_port",
    "suffix_inside",
]

#: Request Origin values longer than this are refused before any other work. A serialised
#: origin is a scheme, a host of at most 253 characters and a port.
MAX_ORIGIN_LENGTH: Final = 512

_DEFAULT_PORTS: Final = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
_SCHEME_RE: Final = re.compile(r"[a-z][a-z0-9+.\-]*")
_LABEL_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")
_IPV4_RE: Final = re.compile(r"(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}")
# What a browser sends: Fetch "serialization of an origin" = scheme "://" host [":" port],
# with the host already lower-cased and IDNA-encoded by the URL parser.
_REQUEST_ORIGIN_RE: Final = re.compile(
    r"([a-z][a-z0-9+.\-]*)://([a-z0-9\-._~!$&'()+;=]+|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?"
)


@dataclass(frozen=True, slots=True)
class OriginPattern:
    """A configured origin, parsed.

    ``kind`` is ``"exact"``, ``"subdomains"`` (``host`` is the suffix after ``*.``) or
    ``"any-port"``; ``port`` is ``None`` for the scheme's default port, ``"*"`` for any.
    """

    text: str
    kind: str
    scheme: str
    host: str
    port: str | None

    @property
    def insecure(self) -> bool:
        """Plain ``http``/``ws`` to a host that is not loopback: readable by any network peer."""
        return self.scheme in ("http", "ws") and not is_loopback_host(self.host)


def split_host_port(authority: str) -> tuple[str, str | None]:
    """``host[:port]`` (an origin's or a ``Host`` header's) as (host, port or None); an IPv6
    literal keeps its brackets (``[::1]:8000`` is ``("[::1]", "8000")``)."""
    if authority.startswith("["):
        end = authority.find("]")
        if end != -1 and authority[end + 1 :].startswith(":"):
            return authority[: end + 1], authority[end + 2 :]
        return authority, None
    if ":" in authority:
        host, port = authority.rsplit(":", 1)
        return host, port
    return authority, None


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is ``localhost``, a ``.localhost`` name, 127.0.0.0/8 or ``[::1]``."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if host == "[::1]":
        return True
    return _IPV4_RE.fullmatch(host) is not None and host.startswith("127.")


def _host_problem(host: str, allow_ip: bool) -> str | None:
    """Return why ``host`` is not a valid lower-case ASCII host, or None if it is."""
    if host.startswith("["):
        if not host.endswith("]"):
            return "has an unterminated IPv6 literal"
        try:
            addr = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return "has an invalid IPv6 address"
        if f"[{addr.compressed}]" != host:
            return f"must write the IPv6 address as browsers do: '[{addr.compressed}]'"
        return None if allow_ip else "cannot use '*.' with an IP address"
    if _IPV4_RE.fullmatch(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "has an invalid IPv4 address"
        return None if allow_ip else "cannot use '*.' with an IP address"
    if len(host) > 253:
        return "has a host longer than 253 characters"
    labels = host.split(".")
    for label in labels:
        if not label:
            return "has an empty DNS label (two dots, or a leading or trailing dot)"
        if _LABEL_RE.fullmatch(label) is None:
            return f"has an invalid DNS label {label!r} (letters, digits and inner hyphens only)"
    if labels[-1].isdigit():
        return "has a numeric top-level label, which is not a domain name"
    return None


def parse_origin_pattern(text: str, field: str) -> OriginPattern | Problem:
    """Parse one configured origin strictly, or say precisely what is wrong with it."""

    def bad(code: str, why: str, *fixes: Fix) -> Problem:
        return Problem(field, text, code, f"{text!r} {why}", fix=fixes)

    def item(value: object) -> Fix:
        """The corrected entry, which the message writes as ``write 'https://a.com'``."""
        return Fix(field, value, "item")

    if not text.strip():
        # os.getenv("ALLOWED_ORIGINS", "").split(",") is [""] when the variable is unset.
        return bad(
            "origin_empty",
            "is an empty origin, typically an unset environment variable split on ','; "
            "remove it (an empty list allows no origin)",
        )
    if "," in text:
        items = [item.strip() for item in text.split(",") if item.strip()]
        return bad(
            "origin_comma_separated",
            f"holds several origins in one string; write them as separate items: {items!r}",
            item(items),
        )
    regex_hint = _regex_hint(text, field)
    if regex_hint is not None:
        return bad("origin_looks_like_regex", regex_hint[0], *regex_hint[1])
    if "://" not in text:
        guess = text.strip("/").lower()
        # repr(): the guess is quoted like every other suggestion, control characters escaped.
        return bad("origin_no_scheme", f"has no scheme; write {'https://' + guess!r}", item("https://" + guess))
    scheme, rest = text.split("://", 1)
    if _SCHEME_RE.fullmatch(scheme) is None:
        if _SCHEME_RE.fullmatch(scheme.lower()):
            return bad("origin_uppercase", f"must be lower case: write {text.lower()!r}", item(text.lower()))
        return bad("origin_invalid_scheme", f"has an invalid scheme {scheme!r}")
    if scheme == "file":
        # A file: URL's origin is opaque (URL Standard §"Origin",
        # https://url.spec.whatwg.org/#concept-url-origin), so such pages send "Origin: null"
        # (Fetch §"Serializing a request origin", https://fetch.spec.whatwg.org/#serializing-a-request-origin).
        return bad(
            "origin_file_scheme",
            "is not what browsers send for pages opened from file: URLs: they send 'Origin: null', as "
            "does every sandboxed iframe (which any site can create); to allow them anyway, list 'null' "
            "together with dangerously_allow_null_origin=True",
            item("null"),
            Fix("dangerously_allow_null_origin", True, "keyword"),
        )
    if "@" in rest:
        return bad("origin_userinfo", "contains user information ('@'); an origin never does")
    for mark, code in (("?", "origin_has_query"), ("#", "origin_has_path")):
        if mark in rest:
            fixed = f"{scheme}://{rest.split(mark, 1)[0].split('/', 1)[0]}"
            return bad(
                code, f"has a query or fragment; an origin is only scheme://host[:port]: write {fixed!r}", item(fixed)
            )
    if "/" in rest:
        authority, path = rest.split("/", 1)
        fixed = f"{scheme}://{authority}"
        if path == "":
            return bad("origin_trailing_slash", f"ends with '/'; browsers never send it: write {fixed!r}", item(fixed))
        return bad(
            "origin_has_path", f"has a path; an origin is only scheme://host[:port]: write {fixed!r}", item(fixed)
        )
    if not rest.isascii():
        try:
            punycode = scheme + "://" + rest.encode("idna").decode("ascii")
        except UnicodeError:
            return bad("origin_non_ascii", "is not ASCII; browsers send the punycode form")
        return bad(
            "origin_non_ascii", f"is not ASCII; browsers send the punycode form: write {punycode!r}", item(punycode)
        )
    if rest != rest.lower():
        return bad(
            "origin_uppercase", f"must be lower case, as browsers send it: write {text.lower()!r}", item(text.lower())
        )

    host, port = split_host_port(rest)
    if port is not None and "*" in port and port != "*":
        return bad("origin_wildcard_position", "has '*' in part of the port: use the whole port ('http://localhost:*')")
    if port is not None and port != "*":
        if not port.isdigit() or (len(port) > 1 and port[0] == "0") or not 0 < int(port) < 65536:
            return bad("origin_invalid_port", f"has an invalid port {port!r} (1-65535, no leading zeros)")
        if _DEFAULT_PORTS.get(scheme) == port:
            return bad(
                "origin_default_port",
                f"names the default port, which browsers omit: write {f'{scheme}://{host}'!r}",
                item(f"{scheme}://{host}"),
            )

    kind = "exact"
    if host.startswith("*."):
        kind, host = "subdomains", host[2:]
    if "*" in host or (port is not None and "*" in port and port != "*"):
        return bad(
            "origin_wildcard_position",
            "has '*' in the wrong place: it may only stand for whole leading DNS labels "
            "('https://*.example.com') or the whole port ('http://localhost:*')",
        )
    if port == "*" and kind == "exact":
        kind = "any-port"
    problem = _host_problem(host, allow_ip=kind != "subdomains")
    if problem is not None:
        return bad("origin_invalid_host", problem)
    return OriginPattern(text, kind, scheme, host, port)


#: Regular-expression syntax that an origin never contains: escapes, groups, anchors,
#: alternation, quantifiers, a character class (not an IPv6 literal), '.*' after the scheme.
_REGEX_SYNTAX: Final = re.compile(r"\\|[()^$|{}+]|\[[^\]]*[^0-9a-fA-F:.\]][^\]]*\]|://\.[*+]")
#: A regex's first label standing for "any subdomain": ``.*``, ``[a-z0-9-]+``, ``\w+``, ...
_ANY_LABEL_RE: Final = re.compile(
    r"^(?:\^)?(https?)://(?:\.\*|\.\+|\[[^\]]*\][*+]|\\w[*+]|\([^)]*\)[*+?]?)\\\.(.+?)\$?$"
)


def _regex_hint(text: str, field: str = "allow_origins") -> tuple[str, tuple[Fix, ...]] | None:
    """What to write instead of a regular expression given as an origin, or None: the
    sentence, and the settings it suggests."""
    if _REGEX_SYNTAX.search(text) is None:
        return None
    quoted = f"r'{text}'" if "'" not in text and not text.endswith("\\") else repr(text)
    suggestion = f"allow_origin_regex=[{quoted}]"
    fixes = [Fix("allow_origin_regex", [text], "keyword", python=suggestion)]
    m = _ANY_LABEL_RE.fullmatch(text)
    if m is not None:
        rest = m.group(2)
        plain = rest.replace("\\.", ".")
        if re.fullmatch(r"[a-z0-9.-]+(?::[0-9]+)?", plain):
            pattern = m.group(1) + "://*." + plain
            suggestion = f"the pattern {pattern!r} in allow_origins, or {suggestion}"
            fixes.append(Fix(field, pattern, "item"))
    return (
        "looks like a regular expression; allow_origins takes origins exactly as browsers send "
        f"them (and '*.' patterns): write {suggestion}",
        tuple(fixes),
    )


def parse_request_origin(origin: str) -> tuple[str, str, str | None] | None:
    """Split a browser-serialised origin into (scheme, host, port), or None if it is not one."""
    m = _REQUEST_ORIGIN_RE.fullmatch(origin)
    if m is None:
        return None
    return m.group(1), m.group(2), m.group(3)


def is_own_origin(origin: str, host: str | None) -> bool:
    """Whether ``origin`` is the site's own origin, the site being reached as ``host``.

    ``host`` is the request's ``Host`` header (``api.example.com``, ``localhost:8000``,
    ``[::1]:8000``). The scheme the server saw is deliberately not used: behind a
    TLS-terminating proxy it is ``ws``/``http`` while the site's pages are ``https``, and
    trusting it would make ``http://<host>``, a page any network attacker can serve, count
    as the site itself. So only ``https://<host>`` is the own origin, and ``http://<host>``
    only when the host is loopback (local development; DNS rebinding cannot produce a
    loopback ``Host``). A plain-http site lists its own origin instead.
    """
    if host is None:
        return False
    parts = parse_request_origin(origin)
    if parts is None:
        return False
    scheme, origin_host, origin_port = parts
    if not (scheme == "https" or (scheme == "http" and is_loopback_host(origin_host))):
        return False
    host, host_port = split_host_port(host.lower())
    default = _DEFAULT_PORTS[scheme]
    # Browsers omit the default port in Origin and in Host; either may still name it.
    return origin_host == host and (origin_port or default) == (host_port or default)


def is_public_suffix(domain: str) -> bool:
    """Whether ``domain`` is a public suffix by the Public Suffix List (``com``, ``co.uk``,
    ``github.io``, ``up.railway.app``; any single label), see ``_psl``."""
    return _psl.is_public_suffix(domain)


def suffix_inside(domain: str) -> str | None:
    """A public suffix at or below ``domain``, or None: ``*.domain`` with credentials would
    cover strangers' sites under it (``s3.amazonaws.com`` inside ``amazonaws.com``)."""
    return _psl.suffix_inside(domain)


class OriginMatcher:
    """Decides whether a request's ``Origin`` is allowed; compiled once from the settings.

    Exact origins are one frozenset lookup. Subdomain patterns are indexed by
    (scheme, suffix, port), so matching walks the request host's labels, never the list of
    patterns: 10 000 patterns cost the same as one. Regexes are tried last, with fullmatch,
    only on values that are syntactically origins.
    """

    __slots__ = (
        "_any_port", "_callback", "_callback_null", "_regexes", "_subdomains", "any_origin", "exact",
    )  # fmt: skip

    def __init__(
        self,
        patterns: Sequence[OriginPattern],
        regexes: Sequence[re.Pattern[str]] = (),
        *,
        any_origin: bool = False,
        allow_null: bool = False,
        callback: Callable[[str], object] | None = None,
        callback_null: bool = False,
    ) -> None:
        self.any_origin = any_origin
        exact = {p.text for p in patterns if p.kind == "exact"}
        if allow_null:
            exact.add("null")
        self.exact: frozenset[str] = frozenset(exact)
        self._any_port = {(p.scheme, p.host): p.text for p in patterns if p.kind == "any-port"}
        self._subdomains = {(p.scheme, p.host, p.port): p.text for p in patterns if p.kind == "subdomains"}
        self._regexes = tuple(regexes)
        self._callback = callback
        #: Whether the callback may be asked about ``null`` (dangerously_allow_null_origin).
        self._callback_null = callback_null

    @property
    def has_callback(self) -> bool:
        """Whether an origin callback decides what the static rules do not allow."""
        return self._callback is not None

    @property
    def allows_some(self) -> bool:
        """Whether any origin at all can be allowed (else the policy never varies on Origin)."""
        return bool(
            self.any_origin or self.exact or self._any_port or self._subdomains
            or self._regexes or self._callback
        )  # fmt: skip

    def static_rule(self, origin: str) -> str | None:
        """Return the configured rule that allows ``origin``, or None; never calls the callback."""
        if self.any_origin:
            return "'*'"
        if origin in self.exact:
            return repr(origin)
        if len(origin) > MAX_ORIGIN_LENGTH:
            return None
        if self._any_port or self._subdomains or self._regexes:
            parts = parse_request_origin(origin)
            if parts is None:
                return None
            scheme, host, port = parts
            if self._any_port:
                rule = self._any_port.get((scheme, host))
                if rule is not None:
                    return repr(rule)
            if self._subdomains:
                rule = self._subdomain_rule(scheme, host, port)
                if rule is not None:
                    return repr(rule)
            for regex in self._regexes:
                if regex.fullmatch(origin):
                    return f"allow_origin_regex {regex.pattern!r}"
        return None

    def _subdomain_rule(self, scheme: str, host: str, port: str | None) -> str | None:
        if host.startswith("[") or _IPV4_RE.fullmatch(host):
            return None
        # Only LDH labels can be subdomains; this also refuses '..' and empty labels.
        if _host_problem(host, allow_ip=False) is not None:
            return None
        if port is not None and _DEFAULT_PORTS.get(scheme) == port:
            return None  # browsers never send the default port
        index = host.find(".")
        table = self._subdomains
        while index != -1:
            suffix = host[index + 1 :]
            rule = table.get((scheme, suffix, port)) or table.get((scheme, suffix, "*"))
            if rule is not None:
                return rule
            index = host.find(".", index + 1)
        return None

    def callback_allows(self, origin: str) -> bool | Awaitable[bool]:
        """Ask the origin callback (a bool, or an awaitable of one under ASGI).

        Only ``True`` from the callback allows (see :mod:`corsware._callback`). The
        callback is asked about syntactic origins only, and about ``null`` only with
        ``dangerously_allow_null_origin=True``: ``null`` is the origin of every sandboxed
        iframe, so a deny-list callback (``origin not in BLOCKED``) must not grant it
        unless the user opted in to ``null`` at all.
        """
        assert self._callback is not None  # noqa: S101 - guarded by has_callback
        if origin == "null":
            if not self._callback_null:
                return False
        elif len(origin) > MAX_ORIGIN_LENGTH or parse_request_origin(origin) is None:
            return False
        return call_origin_callback(self._callback, origin)


_LOOKALIKE_SUFFIX: Final = "corsware-lookalike.invalid"

#: What a probe puts after a domain the regex names (``example.com.attacker.net``,
#: ``example.com.evil``, ``example.com.co.uk``): hyphen-free, real TLDs, multi-label suffixes.
_TRAILERS: Final = ("attacker.net", "attacker.com", "attacker.co.uk", "evil", "com", "net", "org", "io", "co.uk")
#: Hosts no regex written for one's own sites admits: other registrable domains under real
#: TLDs and multi-label suffixes, hyphen-free, digit and mixed labels, punycode, a single
#: label, sites on shared hosting suffixes, and IP literals.
_FOREIGN_HOSTS: Final = (
    "attacker.com", "attacker.net", "attacker.org", "attacker.io", "attacker.co.uk", "attacker.com.au",
    "attacker.dev", "a.co", "x1.io", "123.com", "1-2.net", "a.b.attacker.com", "xn--80ak6aa92e.com",
    "attacker", "corsware-probe.invalid", "attacker.github.io", "attacker.herokuapp.com",
    "attacker.vercel.app", "attacker.up.railway.app", "203.0.113.7", "[2001:db8::1]",
)  # fmt: skip
#: Probes are tried on at most this many (scheme, port) pairs and derived from at most this
#: many witnesses: construction stays in the milliseconds whatever the regex.
_MAX_ENDS: Final = 6
_MAX_SEEDS: Final = 8

_Parts = tuple[str, str, "str | None"]


def public_suffix_of(host: str) -> str:
    """The public suffix of ``host`` by the Public Suffix List (its rules, wildcards and
    exceptions, ICANN and PRIVATE sections), else its top-level label."""
    return _psl.public_suffix_of(host)


def registrable_domain(host: str) -> str | None:
    """The domain someone registers to own ``host`` (``example.co.uk`` for ``a.example.co.uk``).

    An IP literal is its own registrable domain; a public suffix (``com``, ``github.io``)
    has none.
    """
    if host.startswith("[") or _IPV4_RE.fullmatch(host):
        return host
    return _psl.registrable_domain(host)


def _origin(scheme: str, host: str, port: str | None) -> str:
    return f"{scheme}://{host}" + ("" if port is None else f":{port}")


@dataclass
class _Zones:
    """What a regex names literally, learnt from its text and from pairs of witnesses."""

    domains: set[str]  # registrable domains: the domain and every subdomain are the user's
    hosts: set[str]  # single hosts with no registrable domain (``intranet``, ``github.io``)
    suffixes: set[str]  # public suffixes under which a character class picks the site

    def judge(self, host: str) -> str | None:
        """None if ``host`` is the user's (named, or loopback); else the public suffix the
        regex opened (``"github.io"``), or ``""`` for a host outside everything it names."""
        if is_loopback_host(host) or host in self.hosts:
            return None
        if any(host == d or host.endswith("." + d) for d in self.domains):
            # Under a named domain, unless a public suffix lies in between: the regex names
            # 'railway.app', but 'attacker.up.railway.app' is a stranger's site.
            suffix = public_suffix_of(host)
            return suffix if suffix != host and any(suffix.endswith("." + d) for d in self.domains) else None
        return next((s for s in sorted(self.suffixes) if host.endswith("." + s)), "")


def regex_problems(
    regex: re.Pattern[str],
    field: str,
    credentials: bool,
    *,
    allow_insecure: bool = False,
    allow_public_suffix: bool = False,
) -> list[Problem]:
    """Find what a configured origin regex admits beyond the sites it names, by probing it.

    The regex is first written out into "witnesses" (``_regex_witness``): strings it
    matches, one per path through its alternations, twice with different characters where
    a class leaves a choice. A registrable domain both copies share is one the regex
    *names* (``example.com`` in ``https://(app|admin)\\.example\\.com``); so is every domain
    written literally in its text (``example\\.com``), as before.

    The probes, each tried with ``https`` and ``http`` and with every scheme and port the
    witnesses use:

    - lookalikes of each named domain ``d`` (refused whatever the credentials, code
      ``regex_matches_lookalike``): ``evil<d>``, ``evil-<d>``, ``attacker<d>``, ``1<d>``,
      ``<d>.corsware-lookalike.invalid``, ``a.<d>.corsware-lookalike.invalid``, ``<d>``
      followed by more labels (``<d>.attacker.net``, ``<d>.attacker.com``, ``<d>.evil``,
      ``<d>.com``, ``.net``, ``.org``, ``.io``, ``.co.uk``, ``.attacker.co.uk``, also after
      ``a.``, ``1.`` and ``www.``), ``<d>`` glued to more text (``<d>attacker.net``,
      ``<d>-attacker.net``, ``<d>x``), and ``<d>`` with a dot replaced by ``x``, ``-``,
      ``1`` or nothing (an unescaped ``.``); never a host under ``d`` itself;
    - with credentials, foreign hosts (``_FOREIGN_HOSTS``: ``attacker.com``, ``.net``,
      ``.org``, ``.io``, ``.co.uk``, ``.com.au``, ``.dev``, ``a.co``, ``x1.io``,
      ``123.com``, ``1-2.net``, ``a.b.attacker.com``, punycode, a single label,
      ``attacker.github.io`` and other shared-hosting sites, IPv4 and IPv6 literals), the
      same suffix and glue forms after each witness's host, ``attacker.<s>`` for a public
      suffix ``s`` inside a named domain (``attacker.up.railway.app`` for ``railway.app``),
      and the witnesses themselves.

    With credentials, a matched probe outside every named domain is refused: under a public
    suffix whose site a class chooses (``[a-z0-9-]+\\.github\\.io``, ``.*\\.com``) as
    ``public_suffix_pattern_with_credentials``, like ``https://*.github.io``; anywhere
    else as ``regex_matches_any_origin``. A match with plain ``http``/``ws`` to a host that
    is not loopback is ``insecure_origin_with_credentials``, like ``http://app.example.com``.
    The two ``dangerously_*`` opt-ins lift the last two, as for plain origins (Starlette
    #800, flask-cors #209, sanic-cors CVE-2026-37737).
    """
    pattern = regex.pattern
    verdicts: dict[str, bool] = {}

    def admits(origin: str) -> bool:
        if origin not in verdicts:
            verdicts[origin] = regex.fullmatch(origin) is not None
        return verdicts[origin]

    def admitted_parts(text: str) -> _Parts | None:
        if not admits(text):
            return None
        parts = parse_request_origin(text)
        if parts is None or _host_problem(parts[1], allow_ip=True) is not None:
            return None
        return parts

    zones = _Zones(set(), set(), set())
    witnesses: dict[_Parts, bool] = {}  # admitted origins -> whether their pair agreed
    for first, second in witness_pairs(regex):
        a = admitted_parts(first)
        if a is None:
            continue
        b = admitted_parts(second)
        witnesses[a] = witnesses.get(a, False) or b is not None
        if b is None or (is_loopback_host(a[1]) and is_loopback_host(b[1])):
            continue
        ra, rb = registrable_domain(a[1]), registrable_domain(b[1])
        if ra is not None and ra == rb:
            zones.domains.add(ra)
        elif ra is None and a[1] == b[1]:
            zones.hosts.add(a[1])
        elif public_suffix_of(a[1]) == public_suffix_of(b[1]):
            zones.suffixes.add(public_suffix_of(a[1]))
    written = _regex_domains(pattern)
    for domain in written:
        registrable = registrable_domain(domain)
        if registrable is None:
            zones.suffixes.add(domain)
        else:
            zones.domains.add(registrable)

    ends: list[tuple[str, str | None]] = [("https", None), ("http", None)]
    for scheme, _host, port in witnesses:
        if (scheme, port) not in ends and len(ends) < _MAX_ENDS:
            ends.append((scheme, port))
    seeds = written + sorted(d for d in zones.domains if d not in written and not d.startswith("["))

    problems: list[Problem] = []
    lookalikes = _lookalike_probes(written, seeds, ends)
    hit = next((probe for probe in lookalikes if admits(probe)), None)
    if hit is not None:
        problems.append(
            Problem(
                field,
                pattern,
                "regex_matches_lookalike",
                f"{pattern!r} also matches the lookalike origin {hit!r}: escape "
                "dots as '\\.' and anchor the host, e.g. r'https://([a-z0-9-]+\\.)*example\\.com'",
            )
        )
    if not credentials:
        return problems

    candidates = [_origin(scheme, host, port) for host in _FOREIGN_HOSTS for scheme, port in ends]
    # A stranger's site under a public suffix inside a named domain ('up.railway.app' in
    # 'railway.app', 'us-east-1.amazonaws.com' in 'amazonaws.com').
    inner = [inside for d in sorted(zones.domains) if (inside := suffix_inside(d)) is not None]
    candidates += [_origin(scheme, f"attacker.{inside}", port) for inside in inner for scheme, port in ends]
    candidates += lookalikes
    for scheme, host, port in list(witnesses)[:_MAX_SEEDS]:
        candidates += [_origin(scheme, probe, port) for probe in _foreign_near(host)]
    candidates += [_origin(*parts) for parts, paired in witnesses.items() if paired]
    admitted = [p for p in dict.fromkeys(candidates) if admits(p)]
    admitted_parts_list = [parts for parts in map(parse_request_origin, admitted) if parts is not None]

    outside = next((_origin(*p) for p in admitted_parts_list if zones.judge(p[1]) == ""), None)
    if outside is not None and hit is None:  # a lookalike is already the same mistake, reported
        problems.append(_outside_problem(field, pattern, outside, zones))

    insecure_pool = admitted_parts_list + list(witnesses)
    insecure_pool += [("http", host, port) for scheme, host, port in witnesses if scheme == "https"]
    insecure = next(
        (
            _origin(*p)
            for p in insecure_pool
            if p[0] in ("http", "ws") and not is_loopback_host(p[1]) and admits(_origin(*p))
        ),
        None,
    )
    if insecure is not None and not allow_insecure:
        fix = None
        if outside is None and hit is None:  # else the https-only regex would still be refused
            fix = _https_only(regex, [p for p in verdicts if verdicts[p] and p.startswith(("http:", "ws:"))])
        hint = f"write {fix!r}" if fix else "match only https:// origins (loopback is exempt)"
        problems.append(
            Problem(
                field,
                pattern,
                "insecure_origin_with_credentials",
                f"{pattern!r} matches the plain-{insecure.split(':', 1)[0]} origin {insecure!r}, so any "
                f"network attacker can run script as it and read credentialed responses; {hint}, or set "
                "dangerously_allow_insecure_origins=True",
            )
        )

    opened = next(((_origin(*p), s) for p in admitted_parts_list if (s := zones.judge(p[1]))), None)
    if opened is not None and not allow_public_suffix:
        probe, suffix = opened
        example = f"https://your-site\\.{re.escape(suffix)}"
        problems.append(
            Problem(
                field,
                pattern,
                "public_suffix_pattern_with_credentials",
                f"{pattern!r} matches {probe!r}: it covers every site under the public suffix "
                f"{suffix!r}, which strangers can register; name your own sites, e.g. "
                f"{example!r}, or set dangerously_allow_public_suffix_patterns=True",
            )
        )
    return problems


def _outside_problem(field: str, pattern: str, probe: str, zones: _Zones) -> Problem:
    named = sorted(zones.domains | zones.hosts)
    if not named:
        return Problem(
            field,
            pattern,
            "regex_matches_any_origin",
            f"{pattern!r} names no domain of yours and matches other sites' origins (e.g. "
            f"{probe!r}), which with allow_credentials=True lets every site it matches read "
            "users' data; list the origins or write a regex that names your domain, e.g. "
            "'https://([a-z0-9-]+\\.)*example\\.com'",
        )
    first = next((d for d in named if not d.startswith("[")), "example.com")
    example = f"https://([a-z0-9-]+\\.)*{re.escape(first)}"
    return Problem(
        field,
        pattern,
        "regex_matches_any_origin",
        f"{pattern!r} also matches {probe!r}, outside the domains it names "
        f"({', '.join(named)}), which with allow_credentials=True lets that site (and every "
        f"site like it) read users' data; anchor the host to your domain, e.g. {example!r}",
    )


def _lookalike_probes(written: list[str], seeds: list[str], ends: list[tuple[str, str | None]]) -> list[str]:
    """Hosts that look like a named domain but are not it, nor under it, as origins."""
    probes: list[str] = []
    for domain in written:  # the original probes first: their messages are documented
        for scheme in ("https", "http"):
            probes += [
                f"{scheme}://evil{domain}",
                f"{scheme}://evil-{domain}",
                f"{scheme}://{domain}.{_LOOKALIKE_SUFFIX}",
                f"{scheme}://a.{domain}.{_LOOKALIKE_SUFFIX}",
            ]
            for i, ch in enumerate(domain):
                if ch == ".":
                    swapped = domain[:i] + "x" + domain[i + 1 :]
                    probes += [f"{scheme}://{swapped}", f"{scheme}://a.{swapped}"]
    for domain in seeds:
        hosts = [f"attacker{domain}", f"1{domain}", f"{domain}attacker.net", f"{domain}-attacker.net", f"{domain}x"]
        for prefix in ("", "a.", "1.", "www."):
            hosts += [f"{prefix}{domain}.{trailer}" for trailer in _TRAILERS]
            hosts += [
                f"{prefix}{domain[:i]}{glue}{domain[i + 1 :]}"
                for i, ch in enumerate(domain)
                if ch == "."
                for glue in ("x", "-", "1", "")
            ]
        hosts = [h for h in hosts if h != domain and not h.endswith("." + domain)]
        probes += [_origin(scheme, host, port) for scheme, port in ends for host in hosts]
    return list(dict.fromkeys(probes))


def _foreign_near(host: str) -> list[str]:
    """Hosts near an admitted one but registered by someone else."""
    if host.startswith("[") or _IPV4_RE.fullmatch(host):
        return []
    near = [f"{host}.{trailer}" for trailer in _TRAILERS]
    near += [f"attacker{host}", f"attacker-{host}", f"{host}attacker.net"]
    registrable = registrable_domain(host)
    if registrable is not None:
        prefix = host[: -len(registrable)]
        near.append(f"{prefix}attacker{registrable}")
        near += [f"{prefix}{registrable[:i]}x{registrable[i + 1 :]}" for i, ch in enumerate(registrable) if ch == "."]
    return near


_HTTP_PREFIXES: Final = (
    "https?://", "http://", "(http|https)://", "(https|http)://", "(https?)://", "(?:https?)://",
    "(?:http|https)://", "(?:https|http)://", "http(s)?://", "http(?:s)?://", "https{0,1}://",
)  # fmt: skip


def _https_only(regex: re.Pattern[str], insecure: list[str]) -> str | None:
    """The regex with its scheme written as ``https://`` only, if that removes every plain
    origin it was seen to match; None when the scheme is not a simple prefix."""
    text = regex.pattern
    anchor = "^" if text.startswith("^") else ""
    body = text[len(anchor) :]
    for prefix in _HTTP_PREFIXES:
        if body.startswith(prefix):
            fixed = anchor + "https://" + body[len(prefix) :]
            try:
                compiled = re.compile(fixed, regex.flags)
            except re.error:  # pragma: no cover - replacing a prefix keeps the regex valid
                return None
            if not any(compiled.fullmatch(origin) for origin in insecure):
                return fixed
            return None
    return None


_DOMAIN_IN_REGEX = re.compile(r"(?:[a-z0-9\-]+(?:\\?\.|\[\.\]))+[a-z]{2,63}", re.IGNORECASE)


def _regex_domains(pattern: str) -> list[str]:
    """Domain names written literally in a regex (``example\\.com``, ``example.com``)."""
    found = []
    for m in _DOMAIN_IN_REGEX.finditer(pattern):
        text = m.group(0).replace("\\.", ".").replace("[.]", ".").lower()
        text = text.lstrip(".")
        if "." in text:
            found.append(text)
    # The shortest domain written is the one a lookalike would target ('example.com' in
    # 'api\.example\.com'); keep all, shortest first, without duplicates.
    return sorted(set(found), key=len)
