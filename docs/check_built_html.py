"""Check the built HTML documentation; exit with status 1 on any finding.

Usage::

    python docs/check_built_html.py docs/_build/html [--browser]

It fails on

1. **anything a page would load from the network**: a ``<script src>``,
   ``<link href>`` (stylesheets, preloads, icons), ``<img>``/``<iframe>``/
   media ``src``, an ``@import`` or ``url(...)`` in inline or built CSS
   (fonts), or an inline script that names an ``http(s)://`` address. Only
   ``data:`` URIs and files inside the build count as local; every local
   reference must exist in the build (a missing MathJax copy would fail
   here);
2. **words that speak of how the project is organised** instead of what the
   software does ("issue 12", "the issue's", "budget", "the goals", "targets
   met", "session", ...), in the prose of every page. Code (``<pre>``,
   ``<code>``) is not scanned: a command-line option such as
   ``--budget`` of a benchmark script is not prose.

With ``--browser`` (or when the environment variable
``DOCS_CHECK_BROWSER=1``), it also opens the user guide in headless
Chromium with every network request refused and checks that MathJax
rendered its formulas; without Chromium that step is reported as skipped.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# -- 1. network loads ---------------------------------------------------------

_LOADING_RELS = {
    "stylesheet", "preload", "prefetch", "modulepreload", "icon", "shortcut",
    "apple-touch-icon", "manifest", "preconnect", "dns-prefetch", "mask-icon",
}  # fmt: skip
_SRC_TAGS = {"script", "img", "iframe", "embed", "source", "video", "audio", "track", "input"}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'");\s]+)""", re.I)
_ADDRESS = re.compile(r"""(?:https?:|wss?:|ftp:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}""")


def _is_remote(url):
    url = url.strip()
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I)) and not url.startswith(
        "file:"
    )


# -- 2. process words ---------------------------------------------------------

#: (pattern, why) pairs; matched case-insensitively on the prose of each page.
PROCESS_WORDS = [
    (r"\bissues?\s*#?\d+", "refers to a tracker issue"),
    (r"\bthe issue(?:'s|s)?\b", "refers to a tracker issue"),
    (r"\bbudgets?\b", "speaks of a work or time budget"),
    (r"\bgoals?\b", "speaks of the project's goals"),
    (r"\btargets?\s+(?:of|are|is|was|were)\s+(?:not\s+)?(?:met|missed|reached)\b",
     "speaks of project targets"),
    (r"\b(?:meets?|met|miss(?:es|ed)?)\s+(?:the|its|both|all|every|each|our)\s+"
     r"(?:\w+\s+)?targets?\b", "speaks of project targets"),
    (r"\(\s*target\s*[<>=]", "quotes a project target"),
    (r"\bsessions?\b", "speaks of work sessions"),
    (r"\bhelpers?\b(?!\s+function)", "speaks of helpers"),
    (r"\bthe lead\b", "speaks of the project's lead"),
    (r"\b(?:sprint|milestone|ticket)s?\b", "speaks of project planning"),
    (r"\bacceptance criteri", "speaks of acceptance criteria"),
    (r"\bproject machine\b", "speaks of the project's own machine"),
    (r"\b(?:ANCHORS|STYLE|GUIDE)\.md\b", "cites a file that is not published"),
]  # fmt: skip
_PROCESS = [(re.compile(p, re.I), why) for p, why in PROCESS_WORDS]

# text inside these is code or machinery, not prose
_SKIP_TEXT = {"pre", "code", "kbd", "samp", "tt", "script", "style", "textarea"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "param", "source", "track", "wbr"}  # fmt: skip


class _Page(HTMLParser):
    """Collects the resources a page loads and its prose."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads = []  # (what, url)
        self.inline_css = []
        self.inline_js = []
        self.prose = []  # (line, text)
        self._stack = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link":
            rels = set((a.get("rel") or "").lower().split())
            if rels & _LOADING_RELS and a.get("href"):
                self.loads.append((f"<link rel={a.get('rel')}>", a["href"]))
        if tag in _SRC_TAGS and a.get("src"):
            self.loads.append((f"<{tag} src>", a["src"]))
        if tag in ("img", "source") and a.get("srcset"):
            for part in a["srcset"].split(","):
                if part.strip():
                    self.loads.append((f"<{tag} srcset>", part.split()[0]))
        if tag in ("video",) and a.get("poster"):
            self.loads.append(("<video poster>", a["poster"]))
        if tag == "object" and a.get("data"):
            self.loads.append(("<object data>", a["data"]))
        if a.get("style"):
            self.inline_css.append(a["style"])
        if tag in _VOID:
            return
        self._stack.append(tag)
        if tag in _SKIP_TEXT:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in _VOID or tag not in self._stack:
            return
        while self._stack:
            top = self._stack.pop()
            if top in _SKIP_TEXT:
                self._skip -= 1
            if top == tag:
                break

    def handle_data(self, data):
        top = self._stack[-1] if self._stack else None
        if top == "style":
            self.inline_css.append(data)
        elif top == "script":
            self.inline_js.append(data)
        elif not self._skip and data.strip():
            self.prose.append((self.getpos()[0], data))


def _css_refs(text):
    return list(dict.fromkeys(_CSS_IMPORT.findall(text) + _CSS_URL.findall(text)))


def _local_target(base_file, url, root):
    path = unquote(urlsplit(url).path)
    if not path:
        return None
    target = (root / path.lstrip("/")) if path.startswith("/") else (base_file.parent / path)
    return target


def check_build(root):
    """Return a list of findings (strings) for the build folder ``root``."""
    root = Path(root)
    findings = []
    # HTML under _static/ are theme templates (Jinja), not pages
    pages = sorted(p for p in root.rglob("*.html") if "_static" not in p.relative_to(root).parts)
    if not pages:
        return [f"{root}: no HTML pages found (was the documentation built?)"]
    for page in pages:
        rel = page.relative_to(root)
        parser = _Page()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        loads = list(parser.loads)
        for css in parser.inline_css:
            loads += [("inline CSS url()/@import", u) for u in _css_refs(css)]
        for what, url in loads:
            if url.startswith(("data:", "#", "about:", "javascript:")):
                continue
            if _is_remote(url):
                findings.append(f"{rel}: {what} loads {url} from the network")
                continue
            target = _local_target(page, url, root)
            if target is not None and not target.exists():
                findings.append(f"{rel}: {what} {url} is missing from the build")
        for js in parser.inline_js:
            for address in _ADDRESS.findall(js):
                findings.append(f"{rel}: an inline script names the address {address}")
        text = " ".join(t for _, t in parser.prose)
        text = re.sub(r"\s+", " ", text)
        for pattern, why in _PROCESS:
            for m in pattern.finditer(text):
                start, end = max(0, m.start() - 50), min(len(text), m.end() + 50)
                findings.append(f"{rel}: '{m.group(0)}' {why}: ...{text[start:end]}...")
    for css_file in sorted(root.rglob("*.css")):
        text = css_file.read_text(encoding="utf-8", errors="replace")
        for url in _css_refs(text):
            if _is_remote(url):
                findings.append(f"{css_file.relative_to(root)}: loads {url} from the network")
    return findings


# -- 3. the user guide in a browser without a network -------------------------


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def browser_command(chromium, url, *extra):
    """Headless Chromium with every network request refused.

    In its own empty network namespace when ``unshare -n`` works (as root),
    and in any case through a proxy that does not exist, so that no request
    can leave the machine.
    """
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-extensions",
        "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={tempfile.mkdtemp(prefix='docs-check-chromium-')}",
        "--virtual-time-budget=15000", *extra, url,
    ]  # fmt: skip
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        cmd = [unshare, "-n", *cmd]
    return cmd


def check_math_in_browser(root, page="user_guide.html"):
    """Findings from rendering ``page`` offline; ``None`` when Chromium is missing."""
    chromium = _chromium()
    if chromium is None:
        return None
    url = (Path(root).resolve() / page).as_uri()
    run = subprocess.run(
        browser_command(chromium, url, "--dump-dom"), capture_output=True, text=True, timeout=180
    )
    dom = run.stdout
    if run.returncode != 0 or not dom.strip():
        return [f"{page}: Chromium failed (status {run.returncode}): {run.stderr[-500:]}"]
    rendered = dom.count("<mjx-container")
    source = Path(root, page).read_text(encoding="utf-8")
    formulas = source.count('class="math') + source.count("class='math")
    findings = []
    if formulas == 0:
        findings.append(f"{page}: no formulas found in the page (expected the user guide's)")
    if rendered < formulas:
        findings.append(
            f"{page}: MathJax rendered {rendered} formulas of {formulas} without a network"
        )
    else:
        print(f"browser: {page} rendered {rendered} formulas offline (of {formulas} in the page)")
    return findings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", help="the HTML build folder, e.g. docs/_build/html")
    parser.add_argument("--browser", action="store_true",
                        help="also render the user guide in headless Chromium, offline")  # fmt: skip
    args = parser.parse_args(argv)
    findings = check_build(args.build)
    if args.browser or os.environ.get("DOCS_CHECK_BROWSER") == "1":
        browser = check_math_in_browser(args.build)
        if browser is None:
            print("browser: skipped (no Chromium found)")
        else:
            findings += browser
    n_pages = len([p for p in Path(args.build).rglob("*.html") if "_static" not in p.parts])
    for finding in findings:
        print(finding)
    if findings:
        print(f"check_built_html: {len(findings)} finding(s) in {n_pages} pages", file=sys.stderr)
        return 1
    print(f"check_built_html: {n_pages} pages, nothing loaded from the network, no process words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
