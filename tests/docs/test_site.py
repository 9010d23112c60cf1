# ruff: noqa: RUF001  (full-width punctuation in the Chinese console messages is what browsers print)
"""The built documentation site: it loads nothing from another host, and it has the same pages
in English (docs/ -> site/) and Chinese (docs/zh/ -> site/zh/), each with its own language.

The site is the one ``make docs`` built (``make test`` builds it first); if it is missing or
older than its sources, it is built here into a temporary directory, the same way.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
ZH = DOCS / "zh"

# English pages whose Chinese twin (docs/zh/<page>) is still being written. This set must
# become empty: a page leaves it when its twin lands (the test below fails while a page listed
# here has a twin, so the set cannot go stale), and a new English page never joins it.
PENDING_TRANSLATION: set[str] = set()


def pages(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("*.md")}


# --- both languages have the same pages ------------------------------------------------------


def test_every_english_page_has_a_chinese_twin() -> None:
    missing = sorted(pages(DOCS) - pages(ZH) - PENDING_TRANSLATION)
    assert not missing, (
        f"English pages without a Chinese twin: {missing}. Write docs/zh/<page> (and add it to the nav "
        "of mkdocs.zh.yml), the same page for Chinese readers with the same code blocks."
    )


def test_every_chinese_page_has_an_english_twin() -> None:
    orphans = sorted(pages(ZH) - pages(DOCS))
    assert not orphans, f"Chinese pages without an English page of the same name: {orphans}"


def test_pending_translation_lists_only_missing_twins() -> None:
    translated = sorted(PENDING_TRANSLATION & pages(ZH))
    assert not translated, (
        f"these pages have their Chinese twin now: remove them from PENDING_TRANSLATION: {translated}"
    )
    unknown = sorted(PENDING_TRANSLATION - pages(DOCS))
    assert not unknown, f"PENDING_TRANSLATION names pages that do not exist in docs/: {unknown}"


# --- the scan for references to other hosts ----------------------------------------------------

#: <link rel=...> values that make the browser fetch the target.
LOADED_LINK_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "modulepreload",
                    "prefetch", "preconnect", "dns-prefetch", "manifest", "mask-icon"}  # fmt: skip
#: Attributes whose URL the browser loads by itself (an <a href> is only followed when clicked).
LOADED_ATTRS = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
}
CSS_URL = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)|url\(\s*["']?([^"')\s]+)""", re.I)


def is_external(url: str) -> bool:
    """True for a URL on another host: with a network scheme or scheme-relative (``//host``)."""
    url = url.strip()
    if url.startswith("//"):
        return True
    scheme = urlsplit(url).scheme.lower()
    return scheme not in ("", "data", "blob", "about", "javascript", "mailto")


def css_externals(css: str) -> list[str]:
    return [u for m in CSS_URL.finditer(css) for u in m.groups() if u and is_external(u)]


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        urls: list[str] = []
        if tag == "link" and LOADED_LINK_RELS & set(values.get("rel", "").lower().split()):
            urls.append(values.get("href", ""))
        for attr in LOADED_ATTRS.get(tag, ()):
            value = values.get(attr, "")
            urls += [part.split()[0] for part in value.split(",") if part.strip()] if "srcset" in attr else [value]
        for url in urls:
            if url and is_external(url):
                self.found.append(f"<{tag}> {url}")
        self.found += [f"<{tag} style> {u}" for u in css_externals(values.get("style", ""))]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found += [f"<style> {u}" for u in css_externals(data)]


def html_externals(html: str) -> list[str]:
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.found


SCAN_CASES = [
    ("google-fonts-stylesheet", '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">', 1),
    ("preconnect", '<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>', 1),
    ("cdn-script", '<script src="https://unpkg.com/mermaid@11/dist/mermaid.min.js"></script>', 1),
    ("scheme-relative-script", '<script src="//cdn.example.com/x.js"></script>', 1),
    ("remote-image", '<img src="http://example.com/a.png">', 1),
    ("remote-srcset", '<img src="a.png" srcset="a2.png 2x, https://cdn.example.com/a3.png 3x">', 1),
    ("style-attribute", '<div style="background: url(https://example.com/bg.png)"></div>', 1),
    ("style-import", "<style>@import url('https://fonts.googleapis.com/css2?family=Inter');</style>", 1),
    ("local-assets", '<link rel="stylesheet" href="assets/x.css"><script src="../assets/y.js"></script>', 0),
    ("data-uri-image", '<img src="data:image/png;base64,AAAA">', 0),
    ("link-in-text", '<a href="https://fetch.spec.whatwg.org/#http-cors-protocol">Fetch</a>', 0),
    ("hreflang-alternate", '<link rel="alternate" href="https://example.com/zh/" hreflang="zh">', 0),
]


@pytest.mark.parametrize(("html", "expected"), [c[1:] for c in SCAN_CASES], ids=[c[0] for c in SCAN_CASES])
def test_the_scan_finds_what_a_browser_would_load_from_another_host(html: str, expected: int) -> None:
    assert len(html_externals(html)) == expected, html_externals(html)


@pytest.mark.parametrize(
    ("css", "expected"),
    [
        ("@import 'https://fonts.googleapis.com/css';", 1),
        ('@font-face { src: url("//fonts.gstatic.com/x.woff2") }', 1),
        (".a { background: url(../img/x.png) } .b { mask: url('data:image/svg+xml;x') }", 0),
    ],
)
def test_the_css_scan(css: str, expected: int) -> None:
    assert len(css_externals(css)) == expected


# --- the built site ----------------------------------------------------------------------------


def _newest_source() -> float:
    sources = [ROOT / "mkdocs.yml", ROOT / "mkdocs.zh.yml", *DOCS.rglob("*"), *(ROOT / "corsware").rglob("*.py")]
    return max(p.stat().st_mtime for p in sources if p.is_file())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = ROOT / "site"
    marker = built / "zh" / "index.html"
    if (built / "index.html").is_file() and marker.is_file() and marker.stat().st_mtime >= _newest_source():
        return built
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"]
    for config, target in (("mkdocs.yml", out), ("mkdocs.zh.yml", out / "zh")):
        proc = subprocess.run([*mkdocs, "-f", config, "--site-dir", str(target)], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert proc.returncode == 0, f"mkdocs build -f {config} failed:\n{proc.stderr[-4000:]}"
    return out


def test_the_site_loads_nothing_from_another_host(site: Path) -> None:
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix == ".html":
            found += [f"{path.relative_to(site)}: {x}" for x in html_externals(path.read_text(encoding="utf-8"))]
        elif path.suffix == ".css":
            found += [f"{path.relative_to(site)}: {x}" for x in css_externals(path.read_text(encoding="utf-8"))]
    assert not found, "the site loads these from another host (serve them from the site itself):\n" + "\n".join(found)


def test_mermaid_and_the_search_shim_are_served_by_the_site(site: Path) -> None:
    for lang_root in (site, site / "zh"):
        page = (lang_root / "cors-explained.html").read_text(encoding="utf-8")
        assert 'class="mermaid"' in page, "the diagrams of cors-explained.md are gone: this test checks them"
        assert '<script src="assets/vendor/mermaid.min.js"></script>' in page
        assert (lang_root / "assets/vendor/mermaid.min.js").stat().st_size > 1_000_000
        assert '<script src="assets/vendor/iframe-worker-shim.js"></script>' in (lang_root / "index.html").read_text(
            encoding="utf-8"
        )


def _html_pages(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*.html") if p.name != "404.html")


def test_each_language_has_its_html_lang_and_interface(site: Path) -> None:
    for root, lang, search_label in ((site, "en", 'placeholder="Search"'), (site / "zh", "zh", 'placeholder="搜索"')):
        built = _html_pages(root)
        assert len(built) >= 6
        for page in built:
            html = page.read_text(encoding="utf-8")
            assert f'<html lang="{lang}"' in html, f"{page.relative_to(site)} lacks lang={lang}"
            assert search_label in html, f"{page.relative_to(site)}: the interface is not in {lang}"


def test_the_chinese_search_index_is_segmented(site: Path) -> None:
    index = (site / "zh" / "search" / "search_index.json").read_text(encoding="utf-8")
    assert '"lang":["zh","en"]' in index.replace(" ", "")
    # jieba (docs extra) splits Chinese text into words with zero-width spaces at build time;
    # without it a whole Chinese sentence is one search term.
    assert "\\u200b" in index or "\u200b" in index, "install jieba (pyproject docs extra)"


SWITCH = re.compile(r'<a href="([^"]*)" hreflang="(en|zh)" class="md-select__link">')


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_language_switch_leads_to_the_same_page(site: Path, lang: str) -> None:
    root = site if lang == "en" else site / "zh"
    other_sources = ZH if lang == "en" else DOCS
    for page in _html_pages(root):
        links = {code: href for href, code in SWITCH.findall(page.read_text(encoding="utf-8"))}
        assert set(links) == {"en", "zh"}, f"{page.relative_to(site)}: language switch {links}"
        assert (root / links[lang]).resolve() == page.resolve()
        other = "zh" if lang == "en" else "en"
        target = (root / links[other]).resolve()
        twin = page.name if (other_sources / (page.stem + ".md")).is_file() else "index.html"
        assert target.name == twin, f"{page.relative_to(site)}: the {other} switch goes to {links[other]}"
        assert target.is_file(), f"{page.relative_to(site)}: the {other} switch goes to a missing {target}"


# --- the API reference --------------------------------------------------------------------------

REFERENCED = [
    "corsware.CORSPolicy",
    "corsware.wsgi.CORSMiddleware",
    "corsware.wsgi.wrap",
    "corsware.wsgi.from_env",
    "corsware.asgi.CORSMiddleware",
    "corsware.asgi.wrap",
    "corsware.asgi.from_env",
    "corsware.flask.CORS",
    "corsware.flask.cross_origin",
    "corsware.django.middleware.CorsMiddleware",
    "corsware.django.checks.check_cors_settings",
    "corsware.django.defaults.default_headers",
    "corsware.django.signals.check_request_enabled",
]


def test_the_reference_covers_the_integrations(site: Path) -> None:
    html = (site / "reference.html").read_text(encoding="utf-8")
    missing = [name for name in REFERENCED if f'id="{name}"' not in html]
    assert not missing, f"docs/reference.md does not document {missing}"
    # Docstrings are rendered as Markdown: reStructuredText roles and directives show as typed.
    text = re.sub(r"<[^>]+>", "", html)
    leaked = re.findall(r":(?:class|func|meth|mod|data|attr):`?[\w.~]+|\.\. [\w-]+::|\w::\n", text)
    assert not leaked, f"reST markup shows in the rendered reference (write Markdown in docstrings): {leaked}"


# --- troubleshooting by a Chinese console message ------------------------------------------------

#: Firefox's own zh-CN strings (its zh-CN localisation of dom/chrome/security/security.properties)
#: and the Chinese renderings of Chromium's English messages met most often.
CHINESE_MESSAGES = {
    "（原因：CORS 头缺少 'Access-Control-Allow-Origin'）",
    "（原因：CORS 头 'Access-Control-Allow-Origin' 不匹配",
    "（原因：CORS 头中的 'Access-Control-Allow-Credentials' 预期为 'true'）",
    "（原因：CORS 预检通道未成功）",
    "（原因：CORS 请求未能成功）",
    "已被 CORS 策略阻止：请求的资源上没有 'Access-Control-Allow-Origin' 标头",
    "对预检请求的响应未通过访问控制检查",
}
MESSAGE_ROW = re.compile(r"^\| `([^`]+)` \| \[[^\]]+\]\(#([\w-]+)\) \|$", re.M)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chinese_console_messages_lead_to_their_section(site: Path, lang: str) -> None:
    source = (DOCS if lang == "en" else ZH) / "troubleshooting.md"
    rows = dict(MESSAGE_ROW.findall(source.read_text(encoding="utf-8")))
    assert set(rows) >= CHINESE_MESSAGES, f"{source}: no row for {sorted(CHINESE_MESSAGES - set(rows))}"
    other = (ZH if lang == "en" else DOCS) / "troubleshooting.md"
    assert set(rows) == set(dict(MESSAGE_ROW.findall(other.read_text(encoding="utf-8")))), "both pages list the same"
    built = ((site if lang == "en" else site / "zh") / "troubleshooting.html").read_text(encoding="utf-8")
    sections = set(re.findall(r'<h2 id="([^"]+)"', built))
    assert set(rows.values()) <= sections, f"rows lead to missing sections: {set(rows.values()) - sections}"
