"""What every patient page must be on a tablet, measured in the browser that shows it."""

from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

MIN_TARGET = 44  # CSS px, both ways
MIN_TEXT = 18  # CSS px
MAX_LINE = 75  # characters: "at most about 70"
MAX_PAGE_BYTES = 60 * 1024

_AXE_SCRIPT = Axe().axe_script  # axe-core as axe-playwright-python bundles it


def axe_violations(page: Page) -> str:
    """'' when axe-core finds nothing, else its readable report.

    axe-core goes into a page once: Axe().run would evaluate its 500 KB again for every
    check, and the layout walk checks each page at three sizes."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_AXE_SCRIPT)
    results = AxeResults(page.evaluate(
        "options => axe.run(document, options)", {"resultTypes": ["violations"]}))
    return "" if results.violations_count == 0 else results.generate_report()


def horizontal_overflow(page: Page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


# Radios and checkboxes are reached through their whole label (the .choice box around them).
_SMALL_TARGETS = """
(min) => {
  const targets = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary');
  const small = [];
  for (const element of targets) {
    const style = getComputedStyle(element);
    if (element.closest('[hidden], dialog:not([open])') || style.visibility === 'hidden') continue;
    let box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right < 0 || box.bottom < 0) continue;  // the skip link, until it is focused
    if (element.type === 'radio' || element.type === 'checkbox') {
      box = element.closest('label').getBoundingClientRect();
    }
    if (box.width < min || box.height < min) {
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      small.push(`${element.outerHTML.slice(0, 80)} ${size}`);
    }
  }
  return small;
}
"""


def small_targets(page: Page) -> list[str]:
    return page.evaluate(_SMALL_TARGETS, MIN_TARGET)


_SMALL_TEXT = """
(min) => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const element = node.parentElement;
    if (!node.textContent.trim() || !element.getClientRects().length) continue;
    if (element.closest('[hidden], dialog:not([open]), .visually-hidden, .skip-link')) continue;
    const size = parseFloat(getComputedStyle(element).fontSize);
    if (size < min) small.push(`${size}px: ${node.textContent.trim().slice(0, 40)}`);
  }
  return small;
}
"""


def small_text(page: Page) -> list[str]:
    return page.evaluate(_SMALL_TEXT, MIN_TEXT)


# Characters per rendered line, from the position of every character of the page's prose.
_LONGEST_LINE = """
() => {
  let longest = {length: 0, text: ''};
  const prose = 'main p, main li, main dd, main legend, main label';
  for (const block of document.querySelectorAll(prose)) {
    if (!block.getClientRects().length) continue;
    const lines = new Map();
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (let i = 0; i < node.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (!rect) continue;
        const top = Math.round(rect.top);
        lines.set(top, (lines.get(top) || '') + node.data[i]);
      }
    }
    for (const text of lines.values()) {
      if (text.trim().length > longest.length) longest = {length: text.trim().length, text};
    }
  }
  return longest;
}
"""


def longest_line(page: Page) -> dict:
    return page.evaluate(_LONGEST_LINE)


_SUBRESOURCE_BYTES = """
async () => {
  const urls = new Set();
  document.querySelectorAll('link[rel=stylesheet][href], script[src], img[src]')
    .forEach(element => urls.add(element.href || element.src));
  let total = 0;
  for (const url of urls) {
    const response = await fetch(url, {cache: 'no-store'});
    total += (await response.arrayBuffer()).byteLength;
  }
  return total;
}
"""


def page_bytes(page: Page) -> int:
    """The page's HTML and every stylesheet, script and image it uses, uncompressed; fetched
    afresh, because what the browser took from its cache leaves no trace to count."""
    return len(page.content().encode()) + page.evaluate(_SUBRESOURCE_BYTES)


def layout_problems(page: Page, patient_page: bool = True) -> list[str]:
    """Everything wrong with the page as shown now; [] when it is fine. A staff page is held
    to axe-core and to no sideways scrolling only."""
    # A click returns once the next page is committed; measure it only when it has loaded,
    # stylesheet and all, or the numbers are those of unstyled HTML.
    page.wait_for_load_state("load")
    problems = []
    overflow = horizontal_overflow(page)
    if overflow > 0:
        problems.append(f"scrolls sideways by {overflow}px")
    if not patient_page:
        if report := axe_violations(page):
            problems.append(report)
        return problems
    if targets := small_targets(page):
        problems.append(f"touch targets under {MIN_TARGET}px: {targets}")
    if text := small_text(page):
        problems.append(f"text under {MIN_TEXT}px: {text}")
    line = longest_line(page)
    if line["length"] > MAX_LINE:
        problems.append(f"a line of {line['length']} characters: {line['text']!r}")
    weight = page_bytes(page)
    if weight > MAX_PAGE_BYTES:
        problems.append(f"page weighs {weight} bytes")
    if report := axe_violations(page):
        problems.append(report)
    return problems
