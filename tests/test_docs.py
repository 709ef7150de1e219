"""The manual's generated parts match the code they describe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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


def _reason_codes_in_source() -> set[str]:
    """Every reject code the product's source can raise: each string shaped like a code
    (``what:why``, lower case) whose ``what`` is a reason family, and each f-string that ends
    in ``:why`` (``f"{kind}:not-a-file"``) as its pattern. Read from the source, not the table."""
    import ast

    families = {code.split(":")[0] for code in _table()}
    shape = re.compile(r"^([a-z]+):[a-z][a-z0-9-]*$")
    found = set()
    for folder in (
        "corpus",
        "augment",
        "pipelines",
        "train",
        "lm",
        "runtime",
        "teachers",
        "speechmill",
    ):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "reasons.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    m = shape.match(node.value)
                    if m and m.group(1) in families:
                        found.add(node.value)
                elif isinstance(node, ast.JoinedStr):
                    last = node.values[-1]
                    if isinstance(last, ast.Constant) and re.match(
                        r"^:[a-z][a-z0-9-]*$", str(last.value)
                    ):
                        found.add("*" + last.value)
    return found


def _table() -> dict:
    from speechmill.corpus.reasons import REASONS

    return REASONS


def test_every_reject_reason_the_code_raises_is_in_the_table_and_its_docs():
    from speechmill.corpus.reasons import reasons_markdown
    from speechmill.corpus.reject import Reject

    table = _table()
    codes = _reason_codes_in_source()
    assert len(codes) > 50  # the scan sees the source (56 codes when the table was made)
    missing = sorted(
        c
        for c in codes
        if (c.startswith("*") and not any(t.endswith(c[1:]) for t in table))
        or (not c.startswith("*") and c not in table)
    )
    assert missing == [], "reasons raised but not in corpus/reasons.py"
    unused = sorted(
        t
        for t in table
        if t not in codes and not any(c.startswith("*") and t.endswith(c[1:]) for c in codes)
    )
    assert unused == [], "rows of corpus/reasons.py that no code raises"
    page = (REPO / "docs" / "rejects.md").read_text()
    assert page == reasons_markdown(), "docs/rejects.md is stale: run make docs"
    assert all(f"`{code}`" in page for code in table)
    with pytest.raises(ValueError, match="add it to corpus/reasons.py"):
        Reject("audio:made-up", "a reason nobody listed")
