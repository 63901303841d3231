"""docs/check_built_html.py: what it flags in a built page and what it leaves alone."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "check_built_html.py"


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location("check_built_html", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(tmp_path, body, head="", css=None):
    root = tmp_path / "html"
    (root / "_static").mkdir(parents=True)
    (root / "_static" / "local.js").write_text("var x = 1;")
    if css is not None:
        (root / "_static" / "theme.css").write_text(css)
    (root / "page.html").write_text(
        f"<html><head>{head}<script src='_static/local.js'></script></head>"
        f"<body>{body}</body></html>"
    )
    return root


def test_a_clean_page_passes(check, tmp_path):
    root = build(tmp_path, "<p>The one-hot target of a cat is (1, 0); see <a "
                           "href='https://example.org/x'>this link</a>.</p>")  # fmt: skip
    assert check.check_build(root) == []
    assert check.main([str(root)]) == 0


@pytest.mark.parametrize(
    "head, needle",
    [
        ("<script src='https://cdn.example.org/mathjax.js'></script>", "cdn.example.org"),
        ("<script src='//cdn.example.org/x.js'></script>", "//cdn.example.org"),
        ("<link rel='stylesheet' href='https://fonts.example.com/css'>", "fonts.example.com"),
        ("<link rel='preconnect' href='https://fonts.example.com'>", "fonts.example.com"),
        ("<style>@import url('https://fonts.example.com/a.css');</style>", "fonts.example.com"),
        ("<script>load('https://cdn.example.org/a.js')</script>", "cdn.example.org"),
        ("<script src='_static/missing.js'></script>", "missing from the build"),
    ],
)
def test_network_loads_and_missing_files_are_flagged(check, tmp_path, head, needle):
    findings = check.check_build(build(tmp_path, "<p>text</p>", head=head))
    assert len(findings) == 1 and needle in findings[0], findings


def test_remote_fonts_in_built_css_are_flagged(check, tmp_path):
    css = "@font-face { src: url(https://fonts.example.com/f.woff2); } a { color: red }"
    findings = check.check_build(build(tmp_path, "<p>x</p>", css=css))
    assert len(findings) == 1 and "theme.css" in findings[0], findings
    local = "@font-face { src: url(../fonts/f.woff2); } a { background: url(data:image/png;x) }"
    assert check.check_build(build(tmp_path / "b", "<p>x</p>", css=local)) == []


@pytest.mark.parametrize(
    "prose",
    [
        "Both targets of issue 2 are met.",
        "It took half the 15-minute budget.",
        "For reference, the issue's plain bank gives 72 %.",
        "The goals were 80 % and 75 %.",
        "The ratio is 1.07 (target <= 1.3).",
        "as noted in ANCHORS.md",
        "recorded on the 2-core project machine",
    ],
)
def test_process_words_in_prose_are_flagged(check, tmp_path, prose):
    findings = check.check_build(build(tmp_path, f"<p>{prose}</p>"))
    assert len(findings) >= 1, prose


def test_code_is_not_prose(check, tmp_path):
    body = ("<pre>$ python bench.py --budget 30\nratio 1.07 (target &lt;= 1.3)</pre>"
            "<p>The option <code class='literal'><span class='pre'>--budget</span></code> "
            "sets the time limit.</p>")  # fmt: skip
    assert check.check_build(build(tmp_path, body)) == []
