"""MkDocs hooks of the corsware documentation (mkdocs.yml and mkdocs.zh.yml).

Two jobs that Material for MkDocs does not do by itself:

- **Two languages, two builds.** The English site is built from ``docs/`` into ``site/``,
  the Chinese one from ``docs/zh/`` into ``site/zh/``. The language switch is set per page,
  so that it leads to the same page in the other language (to the other language's home
  page while a twin is missing), and a link from one language to a page of the other
  (``zh/page.md`` in English, ``../page.md`` in Chinese) is checked against the other
  language's sources and pointed at its built page; a Chinese page shows the English
  pages' images (the benchmark charts) as ``../img/<file>``.
- **Nothing from another host.** Material loads Mermaid from a CDN unless a global
  ``mermaid`` is already defined, and its offline plugin loads the ``iframe-worker`` shim
  (search from ``file://``) from a CDN unless ``extra.polyfills`` names one. Both packages
  are fetched from the npm registry by the build (``npm pack``, once, into ``.cache/``),
  checked against the integrity pinned in :data:`ASSETS`, and copied into the site;
  Mermaid is loaded (in ``<head>``, before Material's bundle looks for it) only by the
  pages that have a diagram.

Pre-rendering the diagrams to SVG was the alternative; it needs a headless browser at build
time (mermaid-cli drives one), where the npm package only needs ``npm``, and the diagrams
keep Material's light and dark themes.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.pages import Page

#: Where the English and the Chinese sources live, and where the Chinese site is built.
DOCS = Path(__file__).resolve().parent.parent
ZH = "zh"
LANGUAGES = {"en": "English", ZH: "中文"}
CACHE = DOCS.parent / ".cache" / "docs-assets"


@dataclass(frozen=True)
class Asset:
    """A file of an npm package, served by the site from ``assets/vendor/<name>``."""

    package: str
    version: str
    integrity: str  # the registry's ``dist.integrity`` of the tarball
    member: str  # the file inside the tarball
    name: str

    @property
    def path(self) -> str:
        return f"assets/vendor/{self.name}"


ASSETS = {
    # Material 9 drives Mermaid 11 (its CDN fallback is mermaid@11).
    "mermaid": Asset(
        "mermaid", "11.12.3",
        "sha512-wN5ZSgJQIC+CHJut9xaKWsknLxaFBwCPwPkGTSUYrTiHORWvpT8RxGk849HPnpUAQ+/9BPRqYb80jTpearrHzQ==",
        "package/dist/mermaid.min.js", "mermaid.min.js",
    ),
    # Named in mkdocs.yml's extra.polyfills, so that the offline plugin adds no CDN copy.
    "iframe-worker": Asset(
        "iframe-worker", "1.0.4",
        "sha512-roeaaI+Lg1LJNfgpCjoRe/+WzEjy9+Z08LoEvu85MCPbBjwm+qXz8Ag5U05lHa6V1CysZyGzE0SOkAtSUA5q7Q==",
        "package/shim/index.js", "iframe-worker-shim.js",
    ),
}  # fmt: skip

# A Markdown link to a page of the other language: ](zh/page.md#anchor) or ](../page.md#anchor).
_CROSS = {
    "en": re.compile(r"\]\(zh/([A-Za-z0-9_-]+)\.md(#[^)\s]*)?\)"),
    ZH: re.compile(r"\]\(\.\./([A-Za-z0-9_-]+)\.md(#[^)\s]*)?\)"),
}
# An image of the English pages used by a Chinese page: ](../img/chart.png) (docs/img/ is
# outside the Chinese build's docs_dir, and served by the English site).
_SHARED_IMAGE = re.compile(r"\]\(\.\./(img/[A-Za-z0-9_.-]+)\)")
_FENCE = re.compile(r"^(\s*)(```|~~~)")

_state: dict[str, Any] = {"mermaid_pages": 0}


def _language(config: MkDocsConfig) -> str:
    return ZH if config.theme["language"] == ZH else "en"


def _sources(language: str) -> Path:
    return DOCS / ZH if language == ZH else DOCS


def _page_url(name: str, config: MkDocsConfig) -> str:
    """The URL of page ``name`` (without ``.md``) relative to its own site's root."""
    if config.use_directory_urls:
        return "" if name == "index" else f"{name}/"
    return f"{name}.html"


def _other_root(language: str) -> str:
    """The other language's site root, relative to this language's site root."""
    return "../" if language == ZH else f"{ZH}/"


def fetch(asset: Asset) -> Path:
    """The asset's file in the cache, fetched from the npm registry and checked first if missing."""
    target = CACHE / f"{asset.package}-{asset.version}" / asset.name
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(  # noqa: S603 (fixed arguments from ASSETS)
                ["npm", "pack", "--silent", f"{asset.package}@{asset.version}"],  # noqa: S607 (npm from PATH)
                cwd=tmp, check=True, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or exc
            raise PluginError(
                f"the site serves {asset.package} {asset.version} itself and fetches it with "
                f"`npm pack {asset.package}@{asset.version}`, which failed: {detail}. Install Node.js "
                f"(npm) and reach the npm registry, or put the file at {target}."
            ) from exc
        tarball = next(Path(tmp).glob("*.tgz"))
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if digest != asset.integrity:
            raise PluginError(f"{tarball.name}: integrity {digest}, expected {asset.integrity} (docs/hooks/site.py)")
        with tarfile.open(tarball) as tar:
            member = tar.extractfile(asset.member)
            if member is None:
                raise PluginError(f"{tarball.name} has no {asset.member}")
            data = member.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _state["mermaid_pages"] = 0
    polyfills = config.extra.get("polyfills", [])
    if ASSETS["iframe-worker"].path not in polyfills:
        raise PluginError(f"mkdocs.yml: extra.polyfills must be [{ASSETS['iframe-worker'].path}] (served by the site)")
    for asset in ASSETS.values():
        fetch(asset)
    return config


#: Links to the other language are parked under this scheme between the Markdown and the HTML:
#: MkDocs leaves a link with a scheme alone, and only knows this build's pages.
_PARKED = "corsware-other-language:"


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, **_: Any) -> str:
    """Check each link to a page of the other language (the page must exist there) and park it
    until :func:`on_page_content` points it at the other language's built page."""
    language = _language(config)
    other = ZH if language == "en" else "en"
    out, fenced = [], False
    for raw in markdown.split("\n"):
        line = raw
        if _FENCE.match(line):
            fenced = not fenced
        if not fenced:

            def park(m: re.Match[str]) -> str:
                name, anchor = m.group(1), m.group(2) or ""
                if not (_sources(other) / f"{name}.md").is_file():
                    raise PluginError(
                        f"{page.file.src_uri} links to {m.group(0)[2:-1]}, but "
                        f"{_sources(other).relative_to(DOCS.parent) / (name + '.md')} does not exist: "
                        "link to a page of this language, or to one that exists in the other."
                    )
                return f"]({_PARKED}{name}{anchor})"

            def park_image(m: re.Match[str]) -> str:
                if not (DOCS / m.group(1)).is_file():
                    raise PluginError(f"{page.file.src_uri} shows ../{m.group(1)}: docs/{m.group(1)} does not exist")
                return f"]({_PARKED}{m.group(1)})"

            line = _CROSS[language].sub(park, line)
            if language == ZH:
                line = _SHARED_IMAGE.sub(park_image, line)
        out.append(line)
    return "\n".join(out)


def on_page_content(html: str, page: Page, config: MkDocsConfig, **_: Any) -> str:
    """Point the parked links at the other language's site, relative to this page."""
    up = "../" * page.url.count("/") + _other_root(_language(config))

    def point(m: re.Match[str]) -> str:
        attr, target = m.group(1), m.group(2)
        if target.startswith("img/"):
            return f'{attr}="{up}{target}"'
        name, _, anchor = target.partition("#")
        return f'{attr}="{up}{_page_url(name, config)}{"#" + anchor if anchor else ""}"'

    return re.sub(rf'(href|src)="{re.escape(_PARKED)}([^"]*)"', point, html)


def on_page_context(context: dict[str, Any], page: Page, config: MkDocsConfig, **_: Any) -> dict[str, Any]:
    """The language switch of this page: this page, and its twin in the other language (or the
    other language's home page while the twin is missing)."""
    language = _language(config)
    other = ZH if language == "en" else "en"
    name = page.file.src_uri.removesuffix(".md")
    twin = name if (_sources(other) / f"{name}.md").is_file() else "index"
    links = {
        language: _page_url(name, config) or "./",
        other: _other_root(language) + _page_url(twin, config),
    }
    config.extra["alternate"] = [{"name": LANGUAGES[lang], "link": links[lang], "lang": lang} for lang in LANGUAGES]
    return context


def on_post_page(output: str, page: Page, config: MkDocsConfig, **_: Any) -> str:
    """Load the site's own Mermaid on the pages that have a diagram."""
    if 'class="mermaid"' not in output:
        return output
    _state["mermaid_pages"] += 1
    src = "../" * page.url.count("/") + ASSETS["mermaid"].path
    return output.replace("</head>", f'<script src="{src}"></script>\n</head>', 1)


def on_post_build(config: MkDocsConfig, **_: Any) -> None:
    """Copy the npm assets into the site (Mermaid only if a page loads it)."""
    for key, asset in ASSETS.items():
        if key == "mermaid" and not _state["mermaid_pages"]:
            continue
        target = Path(config.site_dir) / asset.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fetch(asset), target)
