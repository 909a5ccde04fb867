"""The measured recall cost of private matching (exact normalised keys) against the fuzzy matcher.

Figures printed by `make bench-psi` ("Recall cost" table: bench/psi/run.py on bench/mapping's seeded
messy pairs, 100,000 records a side, 40,000 true pairs), copied here for the UI and the docs to cite.
Re-run the command after changing normalisation or the matcher, and update these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecallCost:
    records_per_side: int
    true_pairs: int
    exact_precision: float
    exact_recall: float
    exact_f1: float
    fuzzy_precision: float
    fuzzy_recall: float
    fuzzy_f1: float
    command: str

    def sentence(self) -> str:
        return (
            f"On {self.records_per_side:,} messy test records a side, exact keys found "
            f"{self.exact_recall:.1%} of the true pairs, the fuzzy matcher {self.fuzzy_recall:.1%} "
            f"(F1 {self.exact_f1:.3f} against {self.fuzzy_f1:.3f}; precision {self.exact_precision:.3f} "
            f"and {self.fuzzy_precision:.3f})."
        )


EXACT_KEY_RECALL = RecallCost(
    records_per_side=100_000,
    true_pairs=40_000,
    exact_precision=1.000,
    exact_recall=0.876,
    exact_f1=0.934,
    fuzzy_precision=0.998,
    fuzzy_recall=0.979,
    fuzzy_f1=0.988,
    command='.venv/bin/python bench/psi/run.py --sizes "" --recall-size 100000',
)
