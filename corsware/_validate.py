"""Validation of ``CORSPolicy`` settings: per-field checks and cross-field security rules.

Every check appends a :class:`Problem` instead of raising, so one ``CORSConfigError``
reports everything wrong with a configuration at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from ._errors import Fix, Problem
from ._headers import (
    FORBIDDEN_METHODS,
    FORBIDDEN_REQUEST_HEADER_PREFIXES,
    FORBIDDEN_REQUEST_HEADERS,
    NORMALISED_METHODS,
    is_token,
)
from ._origins import OriginPattern, parse_origin_pattern, regex_problems, suffix_inside
from ._settings import Settings

__all__ = ["MAX_AGE_LIMIT", "validate"]

#: Firefox's cap on Access-Control-Max-Age; larger values are refused as meaningless.
MAX_AGE_LIMIT: Final = 86400


@dataclass
class _Draft:
    """The settings while ``validate`` builds them; frozen into :class:`Settings` at the end.

    Deliberately the fields of :class:`Settings` again, mutable (lists where Settings holds
    tuples): mypy checks every assignment the validator makes, and
    tests/core/test_architecture.py::test_the_validators_draft_has_the_fields_of_settings
    checks the two declare the same fields.
    """

    origins: list[OriginPattern] = field(default_factory=list)
    any_origin: bool = False
    allow_null: bool = False
    null_opt_in: bool = False
    regexes: list[re.Pattern[str]] = field(default_factory=list)
    methods: tuple[str, ...] = ()
    any_method: bool = False
    headers: tuple[str, ...] = ()
    any_header: bool = False
    header_patterns: tuple[re.Pattern[str], ...] = ()
    expose: tuple[str, ...] = ()
    any_expose: bool = False
    credentials: bool = False
    max_age: int | None = None
    private_network: bool = False
    callback: Callable[[str], object] | None = None
    warnings: list[Problem] = field(default_factory=list)

    def freeze(self) -> Settings:
        return Settings(
            origins=tuple(self.origins), any_origin=self.any_origin, allow_null=self.allow_null,
            null_opt_in=self.null_opt_in, regexes=tuple(self.regexes), methods=self.methods,
            any_method=self.any_method, headers=self.headers, any_header=self.any_header,
            header_patterns=self.header_patterns, expose=self.expose, any_expose=self.any_expose,
            credentials=self.credentials, max_age=self.max_age, private_network=self.private_network,
            callback=self.callback, warnings=tuple(self.warnings),
        )  # fmt: skip


def split_comma_list(text: str) -> list[str]:
    """``"https://a.com, https://b.com"`` as the list it was meant to be (empty items dropped)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _strings(name: str, value: object, problems: list[Problem], *, star: bool = True) -> list[str] | None:
    """Read a sequence-of-strings option; ``"*"`` alone may be a bare string."""
    if isinstance(value, str):
        if star and value == "*":
            return ["*"]
        items = split_comma_list(value)
        if len(items) > 1:
            # "https://a.com, https://b.com": several values in one string (an environment
            # variable or a settings line); the fix is the split list, not a one-item list.
            suggested = items
        else:
            suggested = [value]
        fix = f"write {suggested!r}"
        problems.append(
            Problem(
                name,
                value,
                "bare_string",
                f"is the string {value!r}, not a list; {fix}"
                + (" (only '*' may be given as a bare string)" if star else ""),
                fix=(Fix(name, suggested),),
            )
        )
        return None
    if not isinstance(value, Iterable) or isinstance(value, (bytes, dict)):
        problems.append(Problem(name, value, "invalid_type", f"must be a list of strings, not {type(value).__name__}"))
        return None
    items = list(value)
    bad = [item for item in items if not isinstance(item, str)]
    if bad:
        problems.append(
            Problem(name, bad[0], "invalid_type", f"must hold only strings; {bad[0]!r} is a {type(bad[0]).__name__}")
        )
        return None
    return items


#: Non-bool values whose meaning is plain: ``"true"`` (a string in a JSON file), ``1``.
_MEANS_TRUE: Final = frozenset({"true", "yes", "on", "1"})
_MEANS_FALSE: Final = frozenset({"false", "no", "off", "0", ""})


def _flag(name: str, value: object, problems: list[Problem]) -> bool:
    if not isinstance(value, bool):
        text = str(value).strip().lower() if isinstance(value, (str, int)) else None
        meant = True if text in _MEANS_TRUE else False if text in _MEANS_FALSE else None
        if meant is None:
            problems.append(Problem(name, value, "invalid_type", f"must be True or False, not {value!r}"))
        else:
            problems.append(
                Problem(
                    name,
                    value,
                    "invalid_type",
                    f"must be True or False, not {value!r}; write {meant!r}",
                    fix=(Fix(name, meant),),
                )
            )
        return False
    return value


def validate(
    *,
    allow_origins: object,
    allow_methods: object,
    allow_headers: object,
    allow_credentials: object,
    allow_origin_regex: object,
    expose_headers: object,
    max_age: object,
    allow_private_network: object,
    allow_origin_callback: object,
    dangerously_allow_null_origin: object,
    dangerously_allow_insecure_origins: object,
    dangerously_allow_public_suffix_patterns: object,
) -> tuple[Settings, list[Problem]]:
    """Check every setting; return the normalised settings and all problems found."""
    problems: list[Problem] = []
    s = _Draft()
    s.credentials = _flag("allow_credentials", allow_credentials, problems)
    s.private_network = _flag("allow_private_network", allow_private_network, problems)
    allow_null = s.null_opt_in = _flag("dangerously_allow_null_origin", dangerously_allow_null_origin, problems)
    allow_insecure = _flag("dangerously_allow_insecure_origins", dangerously_allow_insecure_origins, problems)
    allow_psl = _flag("dangerously_allow_public_suffix_patterns", dangerously_allow_public_suffix_patterns, problems)

    _validate_origins(s, allow_origins, allow_null, allow_insecure, allow_psl, problems)
    _validate_regexes(s, allow_origin_regex, allow_insecure, allow_psl, problems)
    _validate_methods(s, allow_methods, problems)
    _validate_headers(s, allow_headers, expose_headers, problems)

    if max_age is not None:
        if isinstance(max_age, bool) or not isinstance(max_age, int):
            # "600" (a quoted number in a policy file): the fix is the number.
            number = int(max_age) if isinstance(max_age, str) and max_age.strip().isdigit() else None
            problems.append(
                Problem(
                    "max_age",
                    max_age,
                    "invalid_type",
                    f"must be a whole number of seconds or None, not {max_age!r}"
                    + (f"; write {number}" if number is not None else ""),
                    fix=(Fix("max_age", number),) if number is not None else (),
                )
            )
        elif not 0 <= max_age <= MAX_AGE_LIMIT:
            problems.append(
                Problem(
                    "max_age",
                    max_age,
                    "max_age_out_of_range",
                    f"{max_age} is outside 0..{MAX_AGE_LIMIT} (browsers cap it: Chromium at 7200, "
                    f"Firefox at 86400); use a value in that range, e.g. max_age={_clamp(max_age)}, "
                    "or None to omit the header",
                    fix=(Fix("max_age", _clamp(max_age), "keyword"),),
                )
            )
        else:
            s.max_age = max_age

    if allow_origin_callback is not None:
        if not callable(allow_origin_callback):
            problems.append(
                Problem(
                    "allow_origin_callback",
                    allow_origin_callback,
                    "invalid_type",
                    "must be a callable taking the origin string and returning a bool",
                )
            )
        else:
            s.callback = allow_origin_callback
    return s.freeze(), problems


def _clamp(max_age: int) -> int:
    """The nearest value browsers honour: 0 for a negative ``max_age``, else the limit."""
    return min(max(max_age, 0), MAX_AGE_LIMIT)


def _validate_origins(
    s: _Draft,
    value: object,
    allow_null: bool,
    allow_insecure: bool,
    allow_psl: bool,
    problems: list[Problem],
) -> None:
    items = _strings("allow_origins", value, problems)
    if items is None:
        return
    for item in dict.fromkeys(items):  # de-duplicated, order kept
        if item == "*":
            s.any_origin = True
            continue
        if item == "null":
            if allow_null:
                s.allow_null = True
            else:
                problems.append(
                    Problem(
                        "allow_origins",
                        item,
                        "null_origin",
                        "'null' is the origin of every sandboxed iframe and local file, so "
                        "allowing it allows any site that sandboxes itself; if you really need "
                        "it, also pass dangerously_allow_null_origin=True",
                        fix=(Fix("dangerously_allow_null_origin", True, "keyword"),),
                    )
                )
            continue
        parsed = parse_origin_pattern(item, "allow_origins")
        if isinstance(parsed, Problem):
            problems.append(parsed)
            continue
        s.origins.append(parsed)
        if s.credentials and parsed.insecure and not allow_insecure:
            problems.append(
                Problem(
                    "allow_origins",
                    item,
                    "insecure_origin_with_credentials",
                    f"{item!r} is plain {parsed.scheme}, so any network attacker can run "
                    "script as it and read credentialed responses; use https (loopback is "
                    "exempt), or pass dangerously_allow_insecure_origins=True",
                    fix=(Fix("dangerously_allow_insecure_origins", True, "keyword"),),
                )
            )
        # The Public Suffix List (corsware/_psl.py) says which names strangers register sites
        # under: '*.github.io' is one, and so is '*.railway.app', which covers the suffix
        # 'up.railway.app' below it.
        inside = suffix_inside(parsed.host) if s.credentials and parsed.kind == "subdomains" else None
        if inside is not None and not allow_psl:
            where = (
                f"every site under the public suffix {parsed.host!r}"
                if inside == parsed.host
                else f"the public suffix {inside!r} and every site under it (e.g. "
                f"'{parsed.scheme}://attacker.{inside}')"
            )
            problems.append(
                Problem(
                    "allow_origins",
                    item,
                    "public_suffix_pattern_with_credentials",
                    f"{item!r} covers {where}, which strangers can register; list your own "
                    "origins, or pass dangerously_allow_public_suffix_patterns=True",
                    fix=(Fix("dangerously_allow_public_suffix_patterns", True, "keyword"),),
                )
            )
    if s.any_origin:
        if s.credentials:
            problems.append(
                Problem(
                    "allow_origins",
                    "*",
                    "wildcard_origin_with_credentials",
                    "'*' together with allow_credentials=True would let every website read "
                    "your users' authenticated responses (browsers refuse '*' with "
                    "credentials, so it would have to reflect any origin); list the origins "
                    "that may send credentials, e.g. ['https://app.example.com']",
                    fix=(Fix("allow_origins", ["https://app.example.com"]),),
                )
            )
        if s.origins or s.allow_null:
            problems.append(
                Problem(
                    "allow_origins",
                    items,
                    "wildcard_origin_redundant",
                    "'*' already allows every origin; remove the other entries or the '*'",
                )
            )


def _validate_regexes(s: _Draft, value: object, allow_insecure: bool, allow_psl: bool, problems: list[Problem]) -> None:
    """Compile the origin regexes and probe each one (``regex_problems``).

    With credentials a regex gets the same guards as a plain origin: no plain-http origin
    that is not loopback, no site under a public suffix (each lifted by its ``dangerously_*``
    opt-in), and nothing outside the domains it names.
    """
    if value is None:
        return
    raw: list[object] = list(value) if isinstance(value, (list, tuple)) else [value]
    for item in raw:
        if isinstance(item, re.Pattern):
            regex: re.Pattern[str] = item
        elif isinstance(item, str):
            try:
                regex = re.compile(item)
            except re.error as exc:
                problems.append(
                    Problem("allow_origin_regex", item, "invalid_regex", f"{item!r} is not a valid regex: {exc}")
                )
                continue
        else:
            problems.append(
                Problem(
                    "allow_origin_regex",
                    item,
                    "invalid_type",
                    f"must be a regex string or re.Pattern, not {type(item).__name__}",
                )
            )
            continue
        found = regex_problems(
            regex,
            "allow_origin_regex",
            s.credentials,
            allow_insecure=allow_insecure,
            allow_public_suffix=allow_psl,
        )
        problems.extend(found)
        if not found:
            s.regexes.append(regex)
    if s.any_origin and s.regexes:
        problems.append(
            Problem(
                "allow_origin_regex",
                value,
                "wildcard_origin_redundant",
                "allow_origins=['*'] already allows every origin; remove allow_origin_regex",
                fix=(Fix("allow_origins", ["*"], "keyword"),),
            )
        )


def _validate_methods(s: _Draft, value: object, problems: list[Problem]) -> None:
    items = _strings("allow_methods", value, problems)
    if items is None:
        return
    methods: list[str] = []
    for item in dict.fromkeys(items):
        if item == "*":
            s.any_method = True
        elif not is_token(item):
            problems.append(
                Problem("allow_methods", item, "invalid_method", f"{item!r} is not a valid HTTP method token")
            )
        elif item.upper() in FORBIDDEN_METHODS:
            problems.append(
                Problem(
                    "allow_methods",
                    item,
                    "forbidden_method",
                    f"{item!r} is a forbidden method: browsers never send it, and allowing it "
                    "invites cross-site tracing; remove it",
                )
            )
        elif item != item.upper() and item.upper() in NORMALISED_METHODS | {"PATCH"}:
            why = (
                "never matches: browsers upper-case it before sending"
                if item.upper() in NORMALISED_METHODS
                else "only matches scripts that send it in lower case (methods compare byte-exactly)"
            )
            problems.append(
                Problem(
                    "allow_methods",
                    item,
                    "method_case",
                    f"{item!r} {why}; write {item.upper()!r}",
                    fix=(Fix("allow_methods", item.upper(), "item"),),
                )
            )
        else:
            methods.append(item)
    if s.any_method and methods:
        problems.append(
            Problem(
                "allow_methods",
                items,
                "wildcard_redundant",
                "'*' already allows every method; remove the others or the '*'",
            )
        )
    s.methods = tuple(methods)


#: Regular-expression syntax in an ``allow_headers`` entry: a header-name pattern
#: (flask-cors documents ``r"X-Company-.*"``). ``.`` and ``*`` alone are token characters,
#: so only their regex combinations count, with the characters no header name can hold.
_HEADER_PATTERN_SYNTAX: Final = re.compile(r"\.[*+?]|[\\\[\](){}?^$|]")
#: Bounds on header-name patterns: their number and the length of each.
MAX_HEADER_PATTERNS: Final = 32
MAX_HEADER_PATTERN_LENGTH: Final = 256


def _header_pattern(item: str, count: int, problems: list[Problem]) -> re.Pattern[str] | None:
    """Compile one header-name pattern of ``allow_headers`` (fullmatch, any case), or report it."""
    if count >= MAX_HEADER_PATTERNS or len(item) > MAX_HEADER_PATTERN_LENGTH:
        problems.append(
            Problem(
                "allow_headers",
                item,
                "invalid_header_pattern",
                f"{item!r}: at most {MAX_HEADER_PATTERNS} header-name patterns of at most "
                f"{MAX_HEADER_PATTERN_LENGTH} characters; list the names instead",
            )
        )
        return None
    try:
        return re.compile(item, re.IGNORECASE)
    except re.error as exc:
        problems.append(
            Problem(
                "allow_headers",
                item,
                "invalid_header_pattern",
                f"{item!r} looks like a header-name pattern but is not a valid regex ({exc}); "
                "write a header name ('X-Company-Id') or a valid pattern (r'X-Company-.*')",
            )
        )
        return None


def _validate_headers(s: _Draft, allow: object, expose: object, problems: list[Problem]) -> None:
    items = _strings("allow_headers", allow, problems)
    if items is not None:
        names: list[str] = []
        patterns: list[re.Pattern[str]] = []
        for item in items:
            low = item.lower()
            if item == "*":
                s.any_header = True
            elif _HEADER_PATTERN_SYNTAX.search(item) is not None:
                pattern = _header_pattern(item, len(patterns), problems)
                if pattern is not None and pattern.pattern not in [p.pattern for p in patterns]:
                    patterns.append(pattern)
            elif not is_token(item):
                problems.append(
                    Problem("allow_headers", item, "invalid_header_name", f"{item!r} is not a valid header name")
                )
            elif low in FORBIDDEN_REQUEST_HEADERS or low.startswith(FORBIDDEN_REQUEST_HEADER_PREFIXES):
                # Fetch "forbidden request-header" (https://fetch.spec.whatwg.org/#forbidden-request-header):
                # no script can set it, so listing it does nothing. Old django-cors-headers
                # default lists (accept-encoding, dnt, origin) still carry some: drop, warn.
                hint = " (cookies are sent with allow_credentials=True)" if low in ("cookie", "set-cookie") else ""
                s.warnings.append(
                    Problem(
                        "allow_headers",
                        item,
                        "forbidden_request_header",
                        f"{item!r} is a forbidden request header: browsers never let scripts "
                        f"set it, so allowing it does nothing; it is ignored, remove it{hint}",
                    )
                )
            elif low.startswith("access-control-allow-") or low in ("access-control-expose-headers",
                                                                     "access-control-max-age"):  # fmt: skip
                # A response header listed as a request header: it is kept (a page whose
                # code sets it on its requests still works), but it is almost always the
                # front-end mistake of sending the server's headers.
                s.warnings.append(
                    Problem(
                        "allow_headers",
                        item,
                        "response_header_in_allow_headers",
                        f"{item!r} is a response header, which corsware sends itself; a browser "
                        "sends it only when the page's own code sets it on its requests (a common "
                        "mistake: remove it there and here)",
                    )
                )
                if low not in names:
                    names.append(low)
            elif low not in names:
                names.append(low)
        if s.any_header and (names or patterns):
            # '*' covers every header, Authorization included (see corsware._decision).
            s.warnings.append(
                Problem(
                    "allow_headers",
                    items,
                    "wildcard_redundant",
                    "'*' already allows every header, Authorization included; the other entries "
                    "are ignored: keep only '*'",
                )
            )
            names, patterns = [], []
        s.headers = tuple(names)
        s.header_patterns = tuple(patterns)

    items = _strings("expose_headers", expose, problems)
    if items is not None:
        names = []
        for item in items:
            low = item.lower()
            if item == "*":
                s.any_expose = True
            elif not is_token(item):
                problems.append(
                    Problem("expose_headers", item, "invalid_header_name", f"{item!r} is not a valid header name")
                )
            elif low in ("set-cookie", "set-cookie2"):
                problems.append(
                    Problem(
                        "expose_headers",
                        item,
                        "forbidden_response_header",
                        f"{item!r} can never be read by scripts, whatever the server says; remove it",
                    )
                )
            elif low not in (n.lower() for n in names):
                names.append(item)
        if s.any_expose and s.credentials:
            problems.append(
                Problem(
                    "expose_headers",
                    "*",
                    "expose_wildcard_with_credentials",
                    "'*' is not a wildcard for credentialed requests (Fetch standard), so "
                    "browsers would expose nothing; list the header names, e.g. ['X-Request-Id']",
                    fix=(Fix("expose_headers", ["X-Request-Id"]),),
                )
            )
        if s.any_expose and names:
            problems.append(
                Problem(
                    "expose_headers",
                    items,
                    "wildcard_redundant",
                    "'*' already exposes every header; remove the others or the '*'",
                )
            )
        s.expose = tuple(names)
