"""The Public Suffix List: which domains anyone can register a site under.

corsware refuses ``https://*.github.io`` (and regexes like it) with credentials, because
strangers own the sibling sites. Which names are such *public suffixes* is what the Public
Suffix List (PSL, https://publicsuffix.org/) records, ICANN section (``com``, ``co.uk``) and
PRIVATE section (``github.io``, ``up.railway.app``, ``vercel.app``) alike. The list ships as
package data, ``public_suffix_list.dat`` (MPL-2.0, see NOTICE), compacted by
``corsware._psl_update``; it is read once, on the first lookup, into three sets. Every
lookup then costs one set probe per label of the host: O(labels), whatever the list's size.

The algorithm is the PSL's own (https://github.com/publicsuffix/list/wiki/Format):
rules match label-wise from the right; ``*`` matches any one label (``*.ck``); an exception
(``!www.ck``) beats every other rule and means its leftmost label is *not* part of the
suffix; otherwise the longest matching rule wins; no match means the default rule ``*``
(the top-level label). Hosts are the lower-case ASCII (punycode) names browsers send, so
the list's Unicode rules are converted to punycode when it is loaded.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

__all__ = [
    "DATA_FILE",
    "PublicSuffixList",
    "is_public_suffix",
    "load",
    "parse",
    "public_suffix_of",
    "registrable_domain",
    "suffix_inside",
]

#: The shipped list, beside this module.
DATA_FILE: Final = "public_suffix_list.dat"

_VERSION_RE: Final = re.compile(r"//\s*VERSION:\s*(\S+)")
_COMMIT_RE: Final = re.compile(r"//\s*COMMIT:\s*(\S+)")


@dataclass(frozen=True, slots=True)
class PublicSuffixList:
    """A parsed list: each rule as an ASCII domain in one of three sets.

    ``rules`` holds plain rules (``co.uk``), ``wildcards`` the part after ``*.`` of wildcard
    rules (``ck`` for ``*.ck``), ``exceptions`` the part after ``!`` (``www.ck``).
    ``parents`` maps every domain (of two labels or more) with a rule strictly below it to one
    such suffix (``amazonaws.com`` -> ``us-east-1.amazonaws.com``): a pattern
    ``*.amazonaws.com`` covers strangers' sites though ``amazonaws.com`` is no public suffix.
    ``version`` is the list's ``// VERSION:`` line (``2026-10-22_08-36-41_UTC``).
    """

    rules: frozenset[str]
    wildcards: frozenset[str]
    exceptions: frozenset[str]
    parents: dict[str, str]
    version: str
    commit: str

    def public_suffix_of(self, host: str) -> str:
        """The public suffix of ``host`` (lower-case ASCII): ``co.uk`` for ``a.b.co.uk``."""
        labels = host.split(".")
        # suffixes[i] is labels[i:] joined, built right to left: one slice per label.
        starts = [0]
        for label in labels[:-1]:
            starts.append(starts[-1] + len(label) + 1)
        suffixes = [host[start:] for start in starts]
        # An exception rule prevails over every other rule; its leftmost label is dropped.
        for i, candidate in enumerate(suffixes):
            if candidate in self.exceptions:
                return suffixes[i + 1] if i + 1 < len(suffixes) else candidate
        # Otherwise the rule with the most labels wins: try the longest candidate first.
        for i, candidate in enumerate(suffixes):
            if candidate in self.rules:
                return candidate
            if i + 1 < len(suffixes) and suffixes[i + 1] in self.wildcards:
                return candidate
        return labels[-1]  # the default rule "*": the top-level label

    def is_public_suffix(self, domain: str) -> bool:
        """Whether ``domain`` is itself a public suffix (every single label is)."""
        return self.public_suffix_of(domain) == domain

    def registrable_domain(self, host: str) -> str | None:
        """The public suffix plus one label (``example.co.uk``); None for a public suffix."""
        suffix = self.public_suffix_of(host)
        if host == suffix:
            return None
        return host[: -len(suffix) - 1].rsplit(".", 1)[-1] + "." + suffix

    def suffix_inside(self, domain: str) -> str | None:
        """A public suffix at or below ``domain``, or None: what ``*.domain`` would open.

        ``github.io`` for ``github.io``; ``us-east-1.amazonaws.com`` for ``amazonaws.com``
        (the shortest rule below it); ``name.kobe.jp`` for ``kobe.jp`` (the wildcard rule
        ``*.kobe.jp``); None for ``example.com``.
        """
        if self.is_public_suffix(domain):
            return domain
        return self.parents.get(domain)


def _ascii(rule: str) -> str:
    """A rule's labels as browsers send them: each non-ASCII label punycoded (``xn--``)."""
    if rule.isascii():
        return rule
    return ".".join(
        label if label.isascii() or label == "*" else "xn--" + label.encode("punycode").decode("ascii")
        for label in rule.split(".")
    )


def parse(text: str) -> PublicSuffixList:
    """Parse a list in the PSL format (comments ``//``, one rule per line, first word only)."""
    rules: set[str] = set()
    wildcards: set[str] = set()
    exceptions: set[str] = set()
    parents: dict[str, str] = {}
    version = commit = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("//"):
            if m := _VERSION_RE.match(line):
                version = m.group(1)
            elif m := _COMMIT_RE.match(line):
                commit = m.group(1)
            continue
        if not line:
            continue
        rule = _ascii(line.split()[0].lower())
        if rule.startswith("!"):
            exceptions.add(rule[1:])
            continue
        if rule.startswith("*."):
            wildcards.add(rule[2:])
            rule = "name" + rule[1:]  # one suffix the wildcard makes, for parents and messages
        else:
            rules.add(rule)
        # Every proper parent of a suffix contains it; the shortest such suffix (the first in
        # the list's order among equals) names it. A single label is a suffix anyway: no entry.
        parent = rule.split(".", 1)[1] if "." in rule else ""
        while "." in parent:
            known = parents.get(parent)
            if known is None or known.count(".") > rule.count("."):
                parents[parent] = rule
            parent = parent.split(".", 1)[1]
    return PublicSuffixList(frozenset(rules), frozenset(wildcards), frozenset(exceptions), parents, version, commit)


@functools.cache
def load() -> PublicSuffixList:
    """The shipped list, parsed on first use (a few milliseconds) and kept."""
    return parse(resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8"))


def public_suffix_of(host: str) -> str:
    """The public suffix of ``host`` by the shipped list (``github.io`` for ``a.github.io``)."""
    return load().public_suffix_of(host)


def is_public_suffix(domain: str) -> bool:
    """Whether ``domain`` is a public suffix by the shipped list (``com``, ``up.railway.app``)."""
    return load().is_public_suffix(domain)


def registrable_domain(host: str) -> str | None:
    """The registrable domain of ``host`` by the shipped list; None for a public suffix."""
    return load().registrable_domain(host)


def suffix_inside(domain: str) -> str | None:
    """A public suffix at or below ``domain`` by the shipped list, or None."""
    return load().suffix_inside(domain)
