"""A headless Firefox for the browser suite: Debian's ``firefox-esr`` driven over Marionette.

One Firefox per run, started with a fresh profile (a temporary directory, removed at the
end) whose ``user.js`` keeps it on loopback: no updates, telemetry, safe-browsing, captive
portal or connectivity checks, Normandy/Nimbus experiments, remote settings (served from a
``data:`` URL, which ``MOZ_REMOTE_SETTINGS_DEVTOOLS=1`` allows in a release build), DoH,
prefetching or HTTPS-First upgrades; the suite's ``*.test`` hosts resolve to 127.0.0.1
through ``network.dns.localDomains``, as Chromium's ``--host-resolver-rules`` does for it.

``-remote-allow-system-access`` lets Marionette run script in the browser's own (chrome)
context, where the console service holds the "Cross-Origin Request Blocked" messages that
Firefox shows in its console (page scripts never see them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .servers import free_port, wait_for_port

#: Prefs that keep Firefox quiet and on loopback, and make it follow the Fetch standard.
PREFS: dict[str, Any] = {
    # Updates, experiments, remote settings, telemetry.
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "app.normandy.enabled": False,
    "app.normandy.api_url": "",
    "app.shield.optoutstudies.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "nimbus.rollouts.enabled": False,
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "security.remote_settings.crlite_filters.enabled": False,
    "security.remote_settings.intermediates.enabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.policy.firstRunURL": "",
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.archive.enabled": False,
    "toolkit.telemetry.server": "",
    "browser.ping-centre.telemetry": False,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "media.gmp-manager.updateEnabled": False,
    "media.gmp-manager.url": "",
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "browser.search.update": False,
    "geo.provider.network.url": "",
    # Safe browsing, captive portal and connectivity checks, OCSP.
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "security.OCSP.enabled": 0,
    # First run, new tab, background requests.
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.page": 0,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "browser.newtabpage.enabled": False,
    "browser.newtabpage.activity-stream.feeds.system.topstories": False,
    "browser.newtabpage.activity-stream.feeds.topsites": False,
    "browser.topsites.contile.enabled": False,
    "network.prefetch-next": False,
    "network.dns.disablePrefetch": True,
    "network.http.speculative-parallel-limit": 0,
    # Name resolution: no DoH, no proxy; the suite's hosts are loopback.
    "network.trr.mode": 5,
    "network.proxy.type": 0,
    "dom.security.https_first": False,
    "dom.security.https_only_mode": False,
    # Fetch §"CORS-preflight fetch" step 7.8 ("CORS non-wildcard request-header name"):
    # `Access-Control-Allow-Headers: *` never covers Authorization. Firefox ESR still lets it
    # (with a deprecation warning in the console) unless this is off, as Chromium does
    # without CorsNonWildcardRequestHeadersSupport: both run here as the standard says.
    "network.cors_preflight.authorization_covered_by_wildcard": False,
}

#: Firefox's console message for a blocked CORS request (security.properties, ``CORS*``).
BLOCKED = re.compile(
    r"Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at "
    "\u2018?(\\S+?)\u2019?\\. (\\(Reason: .*)"
)

_CONSOLE_JS = """
return Services.console.getMessageArray()
  .filter((m) => m instanceof Ci.nsIScriptError)
  .map((m) => m.errorMessage);
"""


class Firefox:
    """One headless Firefox and its Marionette session."""

    def __init__(self, client: Any, version: str) -> None:
        self.client = client
        self.version = version

    def run_specs(self, page_url: str, specs: list[dict[str, Any]], timeout: float = 60.0) -> dict[str, Any]:
        """Load ``page_url`` (the suite's page) and run ``corswareRun(specs)`` in it."""
        self.client.navigate(page_url)
        script = "const [specs, done] = arguments;corswareRun(specs).then(done, (e) => done({__error: String(e)}));"
        results: dict[str, Any] = self.client.execute_async_script(
            script, script_args=[specs], sandbox=None, script_timeout=int(timeout * 1000)
        )
        if "__error" in results:
            raise RuntimeError(f"corswareRun failed in Firefox: {results['__error']}")
        return results

    def console(self) -> list[str]:
        """Every error and warning in the browser console since the last :meth:`clear_console`."""
        with self.client.using_context("chrome"):
            messages: list[str] = self.client.execute_script(_CONSOLE_JS)
        return messages

    def clear_console(self) -> None:
        with self.client.using_context("chrome"):
            self.client.execute_script("Services.console.reset();")

    def blocked(self, ids: Iterable[str], wait_for: set[str], timeout: float = 5.0) -> dict[str, list[str]]:
        """The "(Reason: ...)" part of each CORS message, by the scenario id in its URL (``?s=``).

        Firefox logs them as the fetches fail; wait (boundedly) until ``wait_for`` all have one.
        """
        wanted = set(ids)
        deadline = time.monotonic() + timeout
        while True:
            found: dict[str, list[str]] = {}
            for text in self.console():
                match = BLOCKED.search(text)
                if match:
                    sid = parse_qs(urlsplit(match.group(1)).query).get("s", [""])[0]
                    if sid in wanted:
                        found.setdefault(sid, []).append(match.group(2))
            if wait_for <= found.keys() or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def write_profile(profile: Path, marionette_port: int, local_hosts: Iterable[str]) -> None:
    prefs = {**PREFS, "marionette.port": marionette_port, "network.dns.localDomains": ",".join(sorted(local_hosts))}
    lines = [f"user_pref({json.dumps(name)}, {json.dumps(value)});" for name, value in prefs.items()]
    (profile / "user.js").write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextmanager
def launched(executable: str, local_hosts: Iterable[str], log: Path, timeout: float = 60.0) -> Iterator[Firefox]:
    """Start ``executable`` headless with a fresh profile; yield it connected over Marionette."""
    with warnings.catch_warnings():
        # mozinfo (imported by marionette_driver) calls distro.linux_distribution(), which
        # warns DeprecationWarning at import; the suite turns warnings into errors.
        warnings.simplefilter("ignore", DeprecationWarning)
        from marionette_driver.marionette import Marionette

    profile = Path(tempfile.mkdtemp(prefix="corsware-firefox-"))
    port = free_port()
    write_profile(profile, port, local_hosts)
    env = {**os.environ, "MOZ_HEADLESS": "1", "MOZ_REMOTE_SETTINGS_DEVTOOLS": "1", "MOZ_CRASHREPORTER_DISABLE": "1"}
    cmd = [executable, "--marionette", "--headless", "--no-remote", "--profile", str(profile),
           "-remote-allow-system-access", "about:blank"]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    client = None
    try:
        try:
            wait_for_port(port, proc, timeout)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n--- firefox output ---\n{log.read_text(errors='replace')[-4000:]}") from None
        client = Marionette(host="127.0.0.1", port=port, startup_timeout=int(timeout))
        client.start_session()
        yield Firefox(client, str(client.session_capabilities["browserVersion"]))
    finally:
        if client is not None:
            try:
                client.delete_session()
            except Exception:  # the browser may already be gone; it is stopped below
                pass
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        shutil.rmtree(profile, ignore_errors=True)
