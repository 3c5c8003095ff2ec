"""The documentation: README stays a front page, and every relative link lands in the repository.

A link is a Markdown inline link or image, ``[text](target)`` / ``![alt](target)``, or a
reference definition ``[name]: target``, outside fenced code blocks and inline code. Targets
with a scheme (``https:``, ``mailto:``) are not checked; every other target must name a file or
folder inside the repository, and its ``#anchor``, if any, must match a heading of the Markdown
file it points to (GitHub's rule: lower case, punctuation dropped, spaces to hyphens).
"""
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250  # a front page (issue 13): the reference lives in docs/

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]*)>?(?:\s+[\"'(][^)]*)?\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.M)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose(text):
    """The text with fenced code blocks and inline code spans blanked out."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(text):
    body = prose(text)
    return [t for t in INLINE_LINK.findall(body) + REFERENCE.findall(body) if t]


def slug(heading):
    """GitHub's anchor for a heading: markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"[`*_]|<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path):
    """Every heading anchor of a Markdown file, with GitHub's -1, -2 suffixes for repeats."""
    seen, result = {}, set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def broken_links(page):
    """``(target, reason)`` for every relative link of ``page`` that does not resolve."""
    broken = []
    for target in links(page.read_text(encoding="utf-8")):
        if SCHEME.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not resolved.is_relative_to(ROOT):
            broken.append((target, "outside the repository"))
        elif not resolved.exists():
            broken.append((target, "no such file or folder"))
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append((target, f"no heading #{anchor} in {resolved.relative_to(ROOT)}"))
    return broken


def test_readme_is_a_front_page_of_at_most_250_lines():
    n_lines = len(README.read_text(encoding="utf-8").splitlines())
    assert n_lines <= README_MAX_LINES, (
        f"README.md has {n_lines} lines; at most {README_MAX_LINES}. "
        "Move reference material to a page in docs/ and link it")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page):
    assert broken_links(page) == []


def test_readme_links_no_path_outside_the_repository():
    upward = [t for t in links(README.read_text(encoding="utf-8"))
              if not SCHEME.match(t) and (t.startswith("/") or ".." in Path(t).parts)]
    assert upward == [], "README is read on its own (PyPI, GitHub): link into the repository"


def test_the_link_checker_sees_links_and_skips_code():
    # the checker itself, on a hand-made page: two links and an image, none inside code
    text = ("See [the tour](docs/tour.md#layers) and ![a plot](img/x.png).\n"
            "`[not a link](nowhere.md)`\n"
            "```python\nx = [1](2)  # [no](link.md)\n```\n"
            "[ref]: ../outside.md\n")
    assert links(text) == ["docs/tour.md#layers", "img/x.png", "../outside.md"]
    assert slug("What's in the `box`, verified") == "whats-in-the-box-verified"
    assert slug("numpynn train") == "numpynn-train"
