"""The manual's generated parts match the code they describe."""

from __future__ import annotations

import re
from pathlib import Path

from speechmill.corpus.sources import REGISTRY, sources_markdown

REPO = Path(__file__).resolve().parent.parent


def test_the_sources_page_is_generated_from_the_registry():
    page = (REPO / "docs" / "sources.md").read_text()
    assert page == sources_markdown(), "docs/sources.md is stale: run make docs"
    for name, cls in REGISTRY.items():
        assert f'## `type = "{name}"`' in page and all(f"`{key}`" in page for key in cls.KEYS)


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_of_the_manual_reaches_its_page_and_heading():
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    anchors = {p: {_slug(h) for h in re.findall(r"^#+ (.+)$", p.read_text(), re.M)} for p in pages}
    readme = pages[0].read_text()
    assert re.findall(r"\]\((docs/[^)#]+)", readme), "the README links the manual's pages"
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if "://" in target:
                continue
            path, _, anchor = target.partition("#")
            full = (page.parent / path).resolve() if path else page
            if not full.exists() or (anchor and anchor not in anchors.get(full, {anchor})):
                broken.append(f"{page.name}: {target}")
    assert broken == []
