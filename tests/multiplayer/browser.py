"""A real headless Chromium for page tests: Debian's ``chromium`` driven by Playwright.

We never download a browser (no ``playwright install``): ``make test`` installs the
Debian package, and this module fails with a sentence saying so when it is missing.
:class:`PageWatch` records what a page does (requests, websocket frames, console errors)
and the in-page checks below measure what a person would: contrast, target sizes, labels.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, WebSocket, sync_playwright

__all__ = ["ORDER_LOG_JS", "PageWatch", "chromium", "contrast_failures", "small_targets", "unlabelled_controls"]


def _chromium_path() -> str:
    path = shutil.which("chromium")
    assert path, "Debian's chromium is missing: `make test` installs it (apt-get install chromium)."
    return path


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the duration of the block."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium_path(), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


class PageWatch:
    """Everything a page asks the network for, the frames it sends, and its console errors."""

    def __init__(self, page: Page) -> None:
        self.requests: list[str] = []
        self.sockets: list[str] = []
        self.sent: list[dict[str, Any]] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("websocket", self._socket)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

    def _socket(self, ws: WebSocket) -> None:
        self.sockets.append(ws.url)
        ws.on("framesent", lambda payload: self.sent.append(json.loads(payload)))

    def foreign(self, origin: str) -> list[str]:
        """URLs (requests and websockets) outside ``origin`` ("http://host:port")."""
        host = urlsplit(origin).netloc
        return [url for url in self.requests + self.sockets if urlsplit(url).netloc != host]

    def sent_of(self, type: str) -> list[dict[str, Any]]:
        return [frame for frame in self.sent if frame.get("type") == type]


#: Installed before the page's own scripts: logs each ack/error frame the page receives
#: and each change of a vote button's badge, in the order they happen, in ``window.__order``.
ORDER_LOG_JS = """
window.__order = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (ev) => {
      try {
        const m = JSON.parse(ev.data);
        if (m.type === "ack" || m.type === "error") window.__order.push(`${m.type}:${m.re}`);
      } catch (e) { /* not ours to judge */ }
    });
  }
};
let lastBadges = "";
new MutationObserver(() => {
  const badges = [...document.querySelectorAll(".badge")].map((b) => b.textContent).join("|");
  if (badges !== lastBadges) window.__order.push(`badge:${badges}`);
  lastBadges = badges;
}).observe(document, { subtree: true, childList: true, characterData: true });
"""

_CONTRAST_JS = """
() => {
  const rgba = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || !box.width || !box.height || el.closest("[hidden]")) continue;
    const fg = lum(rgba(getComputedStyle(el).color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const what = `${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}"`;
    if (ratio < 4.5) out.push(`${what}: ${ratio.toFixed(2)}`);
  }
  return out;
}
"""

_TARGETS_JS = """
(minimum) => [...document.querySelectorAll("button, select, input, a[href]")]
  .filter((el) => el.getBoundingClientRect().width > 0)
  .filter((el) => { const b = el.getBoundingClientRect(); return b.width < minimum || b.height < minimum; })
  .map((el) => `${el.tagName} "${(el.textContent || el.id).trim().slice(0, 30)}"`)
"""

_LABELS_JS = """
() => [...document.querySelectorAll("button, select, input")]
  .filter((el) => el.getBoundingClientRect().width > 0)
  .filter((el) => el.tagName === "BUTTON"
    ? !(el.textContent.trim() || el.getAttribute("aria-label"))
    : !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
  .map((el) => el.outerHTML.slice(0, 80))
"""


def contrast_failures(page: Page) -> list[str]:
    """Visible text whose colour has a WCAG contrast ratio under 4.5:1 with its background."""
    return page.evaluate(_CONTRAST_JS)


def small_targets(page: Page, minimum_px: int = 48) -> list[str]:
    """Visible controls smaller than ``minimum_px`` CSS pixels either way."""
    return page.evaluate(_TARGETS_JS, minimum_px)


def unlabelled_controls(page: Page) -> list[str]:
    """Visible controls with no accessible name (no label, text or aria-label)."""
    return page.evaluate(_LABELS_JS)
