"""The corpus facts of corpus/facts.py as Beam combiners (``beam.CombineGlobally(Combine(...))``)."""

from __future__ import annotations

from typing import Any

import apache_beam as beam


class Combine(beam.CombineFn):
    """A ``beam.CombineFn`` over one of corpus/facts.py's accumulators."""

    def __init__(self, facts: Any):
        super().__init__()
        self.facts = facts

    def create_accumulator(self):
        return self.facts.create()

    def add_input(self, accumulator, element):
        return self.facts.add(accumulator, element)

    def merge_accumulators(self, accumulators):
        return self.facts.merge(list(accumulators))

    def extract_output(self, accumulator):
        return self.facts.extract(accumulator)
