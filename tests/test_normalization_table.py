"""The normalizer against a broad written -> spoken table (tests/data/normalization.tsv, 609
rows written for this project over 24 categories, checked against nemo-text-processing in
`make bench`): at least 90 % read as a careful reader would (ignoring "and" inside numbers
and hyphens), and not one output that changes a quantity (sign, decimal part, scale word,
currency) on the rows marked Q: those are read exactly or rejected as ambiguous."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from speechmill.corpus.reject import Reject
from speechmill.corpus.text import normalize

TABLE = Path(__file__).parent / "data" / "normalization.tsv"
NUMBER_WORDS = set(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred thousand million billion trillion first second third fourth fifth sixth seventh "
    "eighth ninth tenth".split()
)
QUANTITY_NOUNS = {
    "dollar",
    "dollars",
    "pound",
    "pounds",
    "euro",
    "euros",
    "hour",
    "hours",
    "minute",
    "minutes",
}


def rows() -> list[tuple[str, str, str, bool]]:
    out = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            category, written, spoken, *flag = line.split("\t")
            out.append((category, written, spoken, bool(flag and flag[0] == "Q")))
    return out


def canonical(text: str) -> str:
    """Drop "and" inside a number or amount (one hundred and five, two dollars and five cents) and hyphens."""
    tokens = text.replace("-", " ").split()
    keep = [
        t
        for i, t in enumerate(tokens)
        if not (
            t == "and"
            and 0 < i < len(tokens) - 1
            and tokens[i - 1] in NUMBER_WORDS | QUANTITY_NOUNS
            and tokens[i + 1] in NUMBER_WORDS
        )
    ]
    return " ".join(keep)


def read(written: str) -> str:
    try:
        return normalize(written)
    except Reject as reject:
        if reject.reason != "text:ambiguous":
            raise
        return "REJECT"


def test_the_table_is_broad():
    table = rows()
    categories = collections.Counter(c for c, *_ in table)
    assert len(table) >= 600
    for category in (
        "year",
        "decade",
        "rate",
        "currency",
        "digits",
        "ellipsis",
        "arithmetic",
        "cardinal",
        "ordinal",
        "decimal",
        "money",
        "measure",
        "date",
        "time",
        "telephone",
        "electronic",
        "fraction",
        "range",
        "roman",
        "address",
        "abbreviation",
    ):
        assert categories[category] >= 5, category


def test_at_least_90_percent_are_read_as_a_careful_reader_would():
    table = rows()
    wrong = [(w, s, read(w)) for _, w, s, _ in table if canonical(read(w)) != canonical(s)]
    share = 1 - len(wrong) / len(table)
    assert share >= 0.90, f"{share:.1%} right; wrong: " + "; ".join(
        f"{w!r} -> {got!r} (want {s!r})" for w, s, got in wrong[:40]
    )


@pytest.mark.parametrize("category, written, spoken, quantity", [r for r in rows() if r[3]])
def test_no_output_changes_a_quantity(category, written, spoken, quantity):
    got = read(written)
    assert got == "REJECT" or canonical(got) == canonical(spoken), (written, got)


@pytest.mark.parametrize(
    "category, written, spoken, quantity", [r for r in rows() if r[2] == "REJECT"]
)
def test_ambiguous_forms_are_rejected_not_guessed(category, written, spoken, quantity):
    with pytest.raises(Reject) as caught:
        normalize(written)
    assert caught.value.reason == "text:ambiguous"


@pytest.mark.parametrize(
    "written, default, other",
    [
        ("The number was 1994.", "nineteen ninety four", "one thousand nine hundred"),
        ("We planted 1500 trees.", "one thousand five hundred trees", "fifteen hundred trees"),
        ("Add 1/2 a cup.", "add one half a cup", "add a half a cup"),
        ("It takes 2-3 days.", "two to three days", "two or three days"),
        ("We met at 5:30.", "five thirty", "half past five"),
        ("They prayed at St. Mary.", "saint mary", "street mary"),
        ("She lives on Elm St. now.", "elm street", "elm saint"),
        ("It cost ₩5000.", "five thousand won", "five thousand south korean won"),
        ("A room for 120 guests.", "one hundred and twenty guests", "one hundred twenty guests"),
    ],
)
def test_forms_with_several_readings_offer_each_default_first(written, default, other):
    from speechmill.corpus.text import readings

    found = readings(written)
    assert found[0] == normalize(written) and default in found[0]
    assert any(other in r for r in found[1:]), found
    assert len(found) == len(set(found)) <= 8
