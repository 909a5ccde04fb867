"""Properties of the matcher on generated accounts: row order, case and spacing never change the pairs."""

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from ecoops.engines.matching import match_accounts

WORDS = ["acme", "acne", "globex", "globe", "initech", "umbrella", "hooli", "stark", "wayne", "nordwind"]
FORMS = ["", " Inc", " GmbH", " Ltd.", " S.A."]
COUNTRIES = [None, "US", "USA", "Germany", "DE", "France"]
SITES = [
    None,
    "",
    "gmail.com",
    "acme.com",
    "https://www.globex.com/x",
    "hooli.io",
    "stark.de",
    "mail@wayne.com",
]

account = st.fixed_dictionaries(
    {
        "name": st.one_of(
            st.none(),
            st.builds(
                lambda words, form: " ".join(words) + form,
                st.lists(st.sampled_from(WORDS), min_size=1, max_size=2),
                st.sampled_from(FORMS),
            ),
        ),
        "website": st.sampled_from(SITES),
        "country": st.sampled_from(COUNTRIES),
    }
)
side = st.lists(account, max_size=12)


def _table(rows: list[dict[str, str | None]], prefix: str) -> pa.Table:
    ids = [f"{prefix}{i}" for i in range(len(rows))]
    columns = {c: pa.array([r[c] for r in rows], pa.string()) for c in ("name", "website", "country")}
    return pa.table({"id": pa.array(ids, pa.string()), **columns})


def _outcome(ours: pa.Table, theirs: pa.Table) -> list[tuple[object, ...]]:
    result = match_accounts(ours, theirs).pairs
    return sorted(
        zip(*(result.column(c).to_pylist() for c in ("our_id", "their_id", "method", "score")), strict=True)
    )


def _noisy(value: str | None, flip: bool) -> str | None:
    return None if value is None else f"  {value.upper() if flip else value.lower()}\t"


@settings(max_examples=25, deadline=None)
@given(side, side, st.randoms(use_true_random=False), st.booleans())
def test_pairs_do_not_depend_on_row_order_case_or_spacing(our_rows, their_rows, rng, flip):
    ours, theirs = _table(our_rows, "o"), _table(their_rows, "t")
    expected = _outcome(ours, theirs)

    shuffled_ours = ours.take(pa.array(rng.sample(range(ours.num_rows), ours.num_rows), pa.int64()))
    shuffled_theirs = theirs.take(pa.array(rng.sample(range(theirs.num_rows), theirs.num_rows), pa.int64()))
    assert _outcome(shuffled_ours, shuffled_theirs) == expected

    noisy = theirs.set_column(
        1, "name", pa.array([_noisy(v, flip) for v in theirs.column("name").to_pylist()])
    )
    noisy = noisy.set_column(
        2, "website", pa.array([_noisy(v, flip) for v in theirs.column("website").to_pylist()])
    )
    assert _outcome(ours, noisy) == expected


@settings(max_examples=25, deadline=None)
@given(side, side)
def test_every_pair_names_existing_records_once_with_a_score_in_range(our_rows, their_rows):
    ours, theirs = _table(our_rows, "o"), _table(their_rows, "t")
    result = match_accounts(ours, theirs).pairs
    keys = list(zip(result.column("our_id").to_pylist(), result.column("their_id").to_pylist(), strict=True))
    assert len(keys) == len(set(keys))
    assert {o for o, _ in keys} <= set(ours.column("id").to_pylist())
    assert {t for _, t in keys} <= set(theirs.column("id").to_pylist())
    assert all(0.0 <= s <= 1.0 for s in result.column("score").to_pylist())
    # A record matched on name (not on a shared domain) is matched to one record at most.
    by_name = [k for k, m in zip(keys, result.column("method").to_pylist(), strict=True) if m != "domain"]
    assert len({o for o, _ in by_name}) == len(by_name) and len({t for _, t in by_name}) == len(by_name)
