"""An LM folder as ``make lm`` writes it: ``lm.arpa`` (the model) and ``lm.json`` (what it was
built from, and the decoder weights alpha and beta that ``make eval TUNE=1`` chose).
Light on purpose: the runtime loads LMs without the corpus tools."""

from __future__ import annotations

import json
import os

ARPA, FACTS = "lm.arpa", "lm.json"
DEFAULT_ALPHA, DEFAULT_BETA = 0.5, 1.0


def read_facts(folder: str) -> dict:
    path = os.path.join(folder, FACTS)
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def write_facts(folder: str, facts: dict) -> None:
    """lm.json through a temporary file and a rename."""
    with open(os.path.join(folder, FACTS + ".tmp"), "w") as f:
        json.dump(facts, f, indent=2)
    os.replace(os.path.join(folder, FACTS + ".tmp"), os.path.join(folder, FACTS))


def lm_path(where: str) -> str:
    """An LM folder (holding lm.arpa) or a model file -> the model file."""
    return os.path.join(where, ARPA) if os.path.isdir(where) else where


def load_lm(where: str, alpha: float | None = None, beta: float | None = None):
    """A :class:`lm.decode.WordLM` from an LM folder (its lm.json's alpha/beta unless given) or a
    KenLM model file (ARPA or binary)."""
    from speechmill.lm.decode import WordLM

    facts = read_facts(where) if os.path.isdir(where) else {}
    return WordLM(
        lm_path(where),
        facts.get("alpha", DEFAULT_ALPHA) if alpha is None else alpha,
        facts.get("beta", DEFAULT_BETA) if beta is None else beta,
    )
