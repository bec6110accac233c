"""What the tests leave behind and check on every page: screenshots and an axe-core audit.

Screenshots go to ``docs/screenshots/<page>-<width>.png`` (the README shows them), one at
desktop and one at phone width, and each is checked not to be blank by reading its pixels
back in the browser (a canvas counts the colours), since a blank PNG is still a valid PNG.
axe-core comes from ``node_modules`` (``make test`` runs npm) and is injected into a
context made with ``bypass_csp=True``: the page CSP rightly refuses a script it did not list.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Final

from playwright.sync_api import Page

from tests.browser.chromium import DESKTOP, PHONE

ROOT: Final = Path(__file__).resolve().parents[2]
SCREENSHOTS: Final = ROOT / "docs" / "screenshots"
AXE: Final = ROOT / "node_modules" / "axe-core" / "axe.min.js"
_BLOCKING_IMPACTS: Final = frozenset({"serious", "critical"})
#: A page with text, fields and buttons has many distinct colours (anti-aliased glyphs);
#: a blank or single-colour screenshot has one or two.
_MIN_COLOURS: Final = 8

_COUNT_COLOURS = """async (data) => {
  const image = new Image();
  image.src = "data:image/png;base64," + data;
  await image.decode();
  const canvas = new OffscreenCanvas(image.width, image.height);
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const colours = new Set();
  for (let i = 0; i < pixels.length; i += 4 * 7) {
    colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  }
  return colours.size;
}"""


def colours_in(page: Page, png: bytes) -> int:
    """How many colours a PNG holds (sampled), decoded by the browser."""
    count: int = page.evaluate(_COUNT_COLOURS, base64.b64encode(png).decode())
    return count


def screenshots(page: Page, name: str) -> None:
    """Write ``<name>-1280.png`` and ``<name>-390.png``; neither may be blank or scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {viewport['width']}px"
        png = page.screenshot(full_page=True, animations="disabled", caret="hide")
        assert colours_in(page, png) >= _MIN_COLOURS, f"{name} at {viewport['width']}px is blank"
        (SCREENSHOTS / f"{name}-{viewport['width']}.png").write_bytes(png)
    page.set_viewport_size(DESKTOP)


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in _BLOCKING_IMPACTS
    ]
