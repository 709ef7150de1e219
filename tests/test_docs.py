"""The manual's generated parts match the code they describe."""

from __future__ import annotations

from pathlib import Path

from speechmill.corpus.sources import REGISTRY, sources_markdown

REPO = Path(__file__).resolve().parent.parent


def test_the_sources_page_is_generated_from_the_registry():
    page = (REPO / "docs" / "sources.md").read_text()
    assert page == sources_markdown(), "docs/sources.md is stale: run make docs"
    for name, cls in REGISTRY.items():
        assert f'## `type = "{name}"`' in page and all(f"`{key}`" in page for key in cls.KEYS)


def test_every_page_the_readme_links_exists():
    import re

    readme = (REPO / "README.md").read_text()
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert links, "the README links the manual's pages"
    assert [link for link in links if not (REPO / link).exists()] == []
