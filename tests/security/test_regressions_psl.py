"""Regressions: the public-suffix guard knows the whole Public Suffix List (finding: curated PSL).

- *curated PSL*: the guard behind ``public_suffix_pattern_with_credentials`` used a short
  built-in list of ~60 suffixes, so ``https://*.up.railway.app`` with credentials was
  accepted although anyone can get a site there (``up.railway.app`` is in the PSL's PRIVATE
  section), as was a regex like ``https://[a-z0-9-]+\\.up\\.railway\\.app``; the wildcard
  (``*.ck``) and exception (``!www.ck``) rules were unknown. corsware now ships the full
  list, ICANN and PRIVATE sections (``corsware/public_suffix_list.dat``), with the PSL
  algorithm (``corsware/_psl.py``).
- *suffix inside the pattern*: ``https://*.railway.app`` and ``https://*.amazonaws.com``
  are not public suffixes themselves but contain some (``up.railway.app``,
  ``us-east-1.amazonaws.com``), so they cover strangers' sites too; refused the same way.

The algorithm is checked against the PSL project's own test vectors
(``psl_test_vectors.txt``, tests/test_psl.txt of github.com/publicsuffix/list, public
domain), and the shipped list must be recent (``test_shipped_list_is_recent``).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest

from corsware import CORSConfigError, CORSPolicy, _psl
from corsware._psl_update import compact, main

VECTORS = Path(__file__).resolve().parents[1] / "support" / "psl_test_vectors.txt"
SHIPPED = Path(_psl.__file__).with_name(_psl.DATA_FILE)

#: The shipped list must be at most this old. The PSL changes every week (new hosting
#: platforms join its PRIVATE section every month) and browsers ship a fresh copy with
#: each release; a list refreshed once a year (``make update-psl``) misses at most a
#: year of newcomers. 400 days is that year plus a month of slack, so that the yearly
#: refresh has time to land before this test turns red.
MAX_AGE_DAYS = 400


def _refused(config: dict[str, object]) -> list[str]:
    try:
        CORSPolicy(**config)  # type: ignore[arg-type]
    except CORSConfigError as exc:
        return [problem.code for problem in exc.problems]
    return []


CRED = {"allow_credentials": True}
PSL = "public_suffix_pattern_with_credentials"

PATTERNS = [
    # Private section: anyone can get a site under these.
    pytest.param("https://*.up.railway.app", PSL, id="curated PSL: *.up.railway.app (private section)"),
    pytest.param("https://*.vercel.app", PSL, id="curated PSL: *.vercel.app"),
    pytest.param("https://*.herokuapp.com", PSL, id="curated PSL: *.herokuapp.com"),
    pytest.param("https://*.github.io", PSL, id="curated PSL: *.github.io"),
    pytest.param("https://*.onrender.com", PSL, id="curated PSL: *.onrender.com"),
    pytest.param("https://*.myshopify.com", PSL, id="curated PSL: *.myshopify.com (private section)"),
    pytest.param("https://*.s3.amazonaws.com", PSL, id="curated PSL: *.s3.amazonaws.com"),
    # ICANN section, and its wildcard and exception rules (*.ck, !www.ck; *.kobe.jp, !city.kobe.jp).
    pytest.param("https://*.co.uk", PSL, id="curated PSL: *.co.uk"),
    pytest.param("https://*.com", PSL, id="curated PSL: *.com"),
    pytest.param("https://*.ck", PSL, id="curated PSL: *.ck (a TLD)"),
    pytest.param("https://*.anything.ck", PSL, id="curated PSL: *.anything.ck (wildcard rule *.ck)"),
    pytest.param("https://*.b.kobe.jp", PSL, id="curated PSL: *.b.kobe.jp (wildcard rule *.kobe.jp)"),
    pytest.param("https://*.k12.ak.us", PSL, id="curated PSL: *.k12.ak.us (three-label rule)"),
    pytest.param("https://*.xn--55qx5d.cn", PSL, id="curated PSL: *.xn--55qx5d.cn (IDN rule, punycode)"),
    # Not a suffix, but one lies inside: the pattern covers strangers' sites below it.
    pytest.param("https://*.railway.app", PSL, id="suffix inside the pattern: *.railway.app"),
    pytest.param("https://*.amazonaws.com", PSL, id="suffix inside the pattern: *.amazonaws.com"),
    pytest.param("https://*.kobe.jp", PSL, id="suffix inside the pattern: *.kobe.jp (wildcard below)"),
    # Registrable domains: the owner's own subdomains.
    pytest.param("https://*.www.ck", None, id="accepted: *.www.ck (exception rule !www.ck)"),
    pytest.param("https://*.city.kobe.jp", None, id="accepted: *.city.kobe.jp (exception rule)"),
    pytest.param("https://*.example.com", None, id="accepted: *.example.com"),
    pytest.param("https://*.api.example.co.uk", None, id="accepted: *.api.example.co.uk"),
    pytest.param("https://*.example.co.uk", None, id="accepted: *.example.co.uk"),
    pytest.param("https://*.my-app.up.railway.app", None, id="accepted: one site's subdomains on railway"),
    pytest.param("https://*.corp.internal", None, id="accepted: an unlisted TLD (default rule *)"),
]


@pytest.mark.parametrize(("origin", "code"), PATTERNS)
def test_subdomain_pattern_with_credentials(origin: str, code: str | None) -> None:
    assert _refused({"allow_origins": [origin], **CRED}) == ([code] if code else [])
    # Without credentials a pattern under a public suffix is allowed, as before.
    assert _refused({"allow_origins": [origin]}) == []
    # And the opt-in lifts the refusal.
    assert _refused({"allow_origins": [origin], **CRED, "dangerously_allow_public_suffix_patterns": True}) == []


def test_message_names_the_suffix_inside_the_pattern() -> None:
    with pytest.raises(CORSConfigError) as info:
        CORSPolicy(allow_origins=["https://*.railway.app"], allow_credentials=True)
    message = info.value.problems[0].message
    assert "'up.railway.app'" in message
    assert "'https://attacker.up.railway.app'" in message
    assert "dangerously_allow_public_suffix_patterns=True" in message


REGEXES = [
    pytest.param(r"https://[a-z0-9-]+\.up\.railway\.app", PSL, id="curated PSL: regex under up.railway.app"),
    pytest.param(r"https://([a-z0-9-]+\.)*railway\.app", PSL, id="suffix inside the pattern: regex over railway.app"),
    pytest.param(r"https://.*\.amazonaws\.com", PSL, id="suffix inside the pattern: regex over amazonaws.com"),
    pytest.param(r"https://[a-z0-9-]+\.vercel\.app", PSL, id="curated PSL: regex under vercel.app"),
    pytest.param(r"https://myapp-[a-z0-9]+\.vercel\.app", PSL, id="curated PSL: preview-branch regex on vercel.app"),
    pytest.param(r"https://[a-z]+\.pages\.dev", PSL, id="curated PSL: regex under pages.dev"),
    pytest.param(r"https://[a-z0-9-]+\.test\.ck", PSL, id="curated PSL: regex under test.ck (wildcard rule *.ck)"),
    pytest.param(r"https://[a-z0-9-]+\.www\.ck", None, id="accepted: regex under www.ck (exception rule)"),
    pytest.param(r"https://[a-z0-9-]+\.example\.com", None, id="accepted: regex under example.com"),
    pytest.param(r"https://([a-z0-9-]+\.)*example\.co\.uk", None, id="accepted: regex under example.co.uk"),
    pytest.param(r"https://[a-z0-9-]+\.amazonaws\.com", None, id="accepted: one label under amazonaws.com"),
    pytest.param(r"https://[a-z0-9-]+\.my-app\.up\.railway\.app", None, id="accepted: one railway site's subdomains"),
]


@pytest.mark.parametrize(("regex", "code"), REGEXES)
def test_origin_regex_with_credentials(regex: str, code: str | None) -> None:
    assert _refused({"allow_origin_regex": regex, **CRED}) == ([code] if code else [])
    assert _refused({"allow_origin_regex": regex, **CRED, "dangerously_allow_public_suffix_patterns": True}) == []


# -- the list and the algorithm -------------------------------------------------------------


def _vectors() -> list[tuple[str, str | None]]:
    """The PSL project's checkPublicSuffix(domain, registrable) lines, as ASCII hosts."""
    found = []
    text = VECTORS.read_text(encoding="utf-8")
    for domain, expected in re.findall(r"^checkPublicSuffix\((\S+), (\S+)\);", text, re.MULTILINE):
        if domain == "null" or domain.startswith("'."):  # not hosts: corsware never sees them
            continue
        host = domain.strip("'").lower().encode("idna").decode("ascii")
        found.append((host, None if expected == "null" else expected.strip("'").encode("idna").decode("ascii")))
    return found


VECTORS = _vectors()


def test_the_vectors_are_read() -> None:
    assert len(VECTORS) >= 70
    assert ("www.www.ck", "www.ck") in VECTORS


@pytest.mark.parametrize(("host", "registrable"), VECTORS, ids=[host for host, _ in VECTORS])
def test_psl_project_vectors(host: str, registrable: str | None) -> None:
    assert _psl.registrable_domain(host) == registrable
    assert _psl.is_public_suffix(host) == (registrable is None)


def test_shipped_list_has_both_sections_and_a_version() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert text.startswith("// This Source Code Form is subject to the terms of the Mozilla Public")
    for marker in ("BEGIN ICANN DOMAINS", "END ICANN DOMAINS", "BEGIN PRIVATE DOMAINS", "END PRIVATE DOMAINS"):
        assert f"// ==={marker}===" in text
    psl = _psl.load()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_UTC", psl.version)
    assert len(psl.rules) + len(psl.wildcards) + len(psl.exceptions) > 9000
    # The list is read once and kept.
    assert _psl.load() is psl


def test_shipped_list_is_recent() -> None:
    version = dt.datetime.strptime(_psl.load().version, "%Y-%m-%d_%H-%M-%S_UTC").date()
    age = (dt.date.today() - version).days
    assert age <= MAX_AGE_DAYS, (
        f"corsware/public_suffix_list.dat is {age} days old (version {version}); "
        "refresh it with `make update-psl` (see docs/security.md)"
    )


def test_lookup_walks_labels_not_rules() -> None:
    """One set probe per label: a 100-label host costs as much as the list is long, not more."""

    class Counting(frozenset[str]):
        probes = 0

        def __contains__(self, item: object) -> bool:
            Counting.probes += 1
            return super().__contains__(item)

    base = _psl.load()
    psl = _psl.PublicSuffixList(
        Counting(base.rules), Counting(base.wildcards), Counting(base.exceptions), base.parents, "", ""
    )
    host = ".".join(["a"] * 100) + ".example.co.uk"
    assert psl.registrable_domain(host) == "example.co.uk"
    assert Counting.probes <= 3 * 103


# -- refreshing the list ---------------------------------------------------------------------


def _full_list(version: str) -> str:
    """The shipped list dressed as the published file: comments and blank lines added back."""
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    body = [line for line in lines if not line.startswith(("// VERSION:", "// COMMIT:", "// Compacted"))]
    body = [f"{line}\n// a comment about {line}" if line and not line.startswith("//") else line for line in body]
    header, rest = body[:4], body[4:]
    return "\n".join([*header, f"// VERSION: {version}", "// COMMIT: 0123abc", "", *rest]) + "\n"


def test_update_compacts_a_wheel_and_keeps_the_rules(tmp_path: Path) -> None:
    wheel = tmp_path / "publicsuffixlist-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("publicsuffixlist/public_suffix_list.dat", _full_list("2099-01-02_03-04-05_UTC"))
    out = tmp_path / "psl.dat"
    assert main([str(wheel), "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "// VERSION: 2099-01-02_03-04-05_UTC" in text
    assert "a comment about" not in text
    assert "// This Source Code Form is subject to the terms of the Mozilla Public" in text
    new, shipped = _psl.parse(text), _psl.load()
    assert (new.rules, new.wildcards, new.exceptions) == (shipped.rules, shipped.wildcards, shipped.exceptions)


def test_update_refuses_an_older_list_and_a_truncated_one(tmp_path: Path) -> None:
    out = tmp_path / "psl.dat"
    out.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    older = tmp_path / "public_suffix_list.dat"
    older.write_text(_full_list("2000-01-01_00-00-00_UTC"), encoding="utf-8")
    with pytest.raises(SystemExit, match="older than the shipped"):
        main([str(older), "--output", str(out)])
    assert main([str(older), "--output", str(out), "--allow-older"]) == 0
    truncated = "\n".join(_full_list("2099-01-01_00-00-00_UTC").splitlines()[:2000])
    with pytest.raises(SystemExit, match="not a whole Public Suffix List"):
        compact(truncated, "truncated.dat")
