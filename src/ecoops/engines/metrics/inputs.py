"""The Arrow tables the metrics engine accepts, and their validation with errors that name the problem.

Every input is checked once, here, so the queries can trust types, required values and vocabularies.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from ecoops.engines.metrics.database import connection

SOURCING_KINDS = ("referral", "deal_registration", "crm_source")
INFLUENCE_KINDS = ("co_sell", "overlap", "content", "marketplace")
DELIVERY_KINDS = ("delivery",)
TOUCH_STATUSES = ("proposed", "confirmed", "disputed")
# The partner life cycle in order; `churned` is reachable from any stage after `signed`.
PARTNER_STAGES = ("prospect", "recruiting", "signed", "onboarding", "active", "producing", "churned")
SIGNED_STAGES = ("signed", "onboarding", "active", "producing")
REFERRAL_DIRECTIONS = ("in", "out")


def _required(name: str, kind: pa.DataType) -> pa.Field:
    return pa.field(name, kind, nullable=False)


# Opportunities are linked to their stage changes and touches by `opportunity_id`, the stored row id
# (it must name the same opportunity as the CRM id beside it): the engine joins and groups on these
# integers, about twice as fast as on text ids, and shows the CRM ids.
OPPORTUNITIES = pa.schema(
    [
        _required("opportunity_id", pa.int64()),
        _required("crm_id", pa.string()),
        pa.field("account_crm_id", pa.string()),
        pa.field("amount", pa.float64()),  # workspace currency; null = not known yet
        _required("created_on", pa.date32()),
        pa.field("close_date", pa.date32()),
        _required("is_closed", pa.bool_()),
        _required("is_won", pa.bool_()),
        pa.field("stage", pa.string()),
        pa.field("owner", pa.string()),
    ]
)
# `change_id` is the stored row id: it orders two changes of the same day as they were recorded.
OPPORTUNITY_STAGE_CHANGES = pa.schema(
    [
        _required("change_id", pa.int64()),
        pa.field("opportunity_id", pa.int64()),  # null when the opportunity is not among `opportunities`
        _required("opportunity_crm_id", pa.string()),
        _required("stage", pa.string()),
        _required("changed_on", pa.date32()),
        _required("is_closed", pa.bool_()),
        _required("is_won", pa.bool_()),
    ]
)
TOUCHES = pa.schema(
    [
        _required("touch_id", pa.int64()),
        _required("partner_id", pa.int64()),
        pa.field("opportunity_id", pa.int64()),  # null on the account, or when not among `opportunities`
        pa.field("opportunity_crm_id", pa.string()),  # null or "" when the touch is on the account
        pa.field("account_crm_id", pa.string()),
        _required("kind", pa.string()),
        _required("touched_on", pa.date32()),
        pa.field("evidence_type", pa.string()),
        pa.field("evidence_ref", pa.string()),
        _required("status", pa.string()),
    ]
)
PARTNERS = pa.schema(
    [
        _required("partner_id", pa.int64()),
        _required("partner_type", pa.string()),
        pa.field("owner_id", pa.int64()),
    ]
)
PARTNER_STAGE_CHANGES = pa.schema(
    [
        _required("change_id", pa.int64()),
        _required("partner_id", pa.int64()),
        pa.field("from_stage", pa.string()),
        _required("to_stage", pa.string()),
        _required("changed_on", pa.date32()),
    ]
)
MEMBERSHIPS = pa.schema(
    [
        _required("partner_id", pa.int64()),
        _required("program_id", pa.int64()),
        pa.field("tier_id", pa.int64()),
    ]
)
# A referral or introduction (EQL): `in` = the partner sent it to us, `out` = we sent it to the partner.
REFERRALS = pa.schema(
    [
        _required("referral_id", pa.int64()),
        _required("partner_id", pa.int64()),
        _required("direction", pa.string()),
        _required("created_on", pa.date32()),
        pa.field("declared_value", pa.float64()),
        pa.field("opportunity_crm_id", pa.string()),
    ]
)
# One of our accounts held in one of our populations and in one of a partner's, over [began_on, ended_on).
OVERLAPS = pa.schema(
    [
        _required("overlap_id", pa.int64()),
        _required("our_account_crm_id", pa.string()),
        _required("partner_id", pa.int64()),
        _required("partner_population", pa.string()),
        _required("our_population", pa.string()),
        _required("began_on", pa.date32()),
        pa.field("ended_on", pa.date32()),
    ]
)

_VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("touches", "kind"): SOURCING_KINDS + INFLUENCE_KINDS + DELIVERY_KINDS,
    ("touches", "status"): TOUCH_STATUSES,
    ("partner_stage_changes", "to_stage"): PARTNER_STAGES,
    ("referrals", "direction"): REFERRAL_DIRECTIONS,
}
# A repeated opportunity (by id, or by the CRM id referrals and attribution name it by) or partner
# would be counted twice. The other ids are stored primary keys that only break same-day ties, so they
# are not re-checked at a cost of seconds per million rows.
_UNIQUE_KEYS = {"opportunities": ("opportunity_id", "crm_id"), "partners": ("partner_id",)}
# Ids the engine packs beside a date into one integer (see snapshot.py) must stay below 2**32.
_PACKED_IDS = {
    "opportunity_stage_changes": "change_id",
    "touches": "partner_id",
    "partner_stage_changes": "change_id",
}
PACKED_ID_LIMIT = 2**32


class MetricsInputError(ValueError):
    """An input table does not have the shape the metrics engine accepts."""


@dataclass(frozen=True)
class MetricsInputs:
    """The records every figure is computed from, validated; build it with `validate_inputs`."""

    opportunities: pa.Table
    opportunity_stage_changes: pa.Table
    touches: pa.Table
    partners: pa.Table
    partner_stage_changes: pa.Table
    memberships: pa.Table
    referrals: pa.Table
    overlaps: pa.Table


def conform(name: str, table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Return `table` with exactly `schema`'s columns and types, or raise MetricsInputError saying why."""
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise MetricsInputError(f"{name}: missing column(s) {', '.join(missing)}; expected {schema.names}")
    columns = []
    for spec in schema:
        column = table.column(spec.name)
        try:
            column = pc.cast(column, spec.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise MetricsInputError(
                f"{name}.{spec.name}: is {column.type}, expected {spec.type} ({error})"
            ) from None
        if not spec.nullable and column.null_count:
            raise MetricsInputError(f"{name}.{spec.name}: {column.null_count} empty value(s); it is required")
        allowed = _VOCABULARIES.get((name, spec.name))
        if allowed is not None:
            _check_vocabulary(name, spec.name, column, allowed)
        columns.append(column)
    conformed = pa.Table.from_arrays(columns, schema=schema)
    packed = _PACKED_IDS.get(name)
    if packed is not None and conformed.num_rows:
        bounds = pc.min_max(conformed.column(packed)).as_py()
        if bounds["min"] < 0 or bounds["max"] >= PACKED_ID_LIMIT:
            raise MetricsInputError(f"{name}.{packed}: must be between 0 and {PACKED_ID_LIMIT - 1}")
    return conformed


def _check_unique(name: str, table: pa.Table, key: str) -> None:
    """Refuse repeated values of `key`. Read before the casts: a safe cast keeps values apart."""
    if not _ascending(table.column(key)) and _repeats(table.select([key])):
        raise MetricsInputError(f"{name}.{key}: values repeat; each row needs its own {key}")


def _ascending(values: pa.ChunkedArray) -> bool:
    """Whether integer ids rise strictly, as stored rows read in id order do: then none repeats, and a
    pass over them spares the distinct count."""
    if not pa.types.is_integer(values.type) or values.null_count:
        return False
    flat = values.combine_chunks()
    return len(flat) < 2 or bool(pc.all(pc.greater(flat[1:], flat[:-1])).as_py())


def _repeats(keys: pa.Table) -> bool:
    """Whether the one column of `keys` repeats (DuckDB's distinct count is several times faster than
    Arrow's)."""
    con = connection()
    try:
        con.register("keys", keys)
        found = con.execute("SELECT count(*) <> count(DISTINCT #1) FROM keys").fetchone()
    finally:
        con.close()
    return bool(found and found[0])


def _check_vocabulary(name: str, column_name: str, column: pa.ChunkedArray, allowed: tuple[str, ...]) -> None:
    unknown = pc.unique(pc.filter(column, pc.invert(pc.is_in(column, pa.array(allowed)))))
    if len(unknown):
        shown = ", ".join(repr(v) for v in unknown.to_pylist()[:5])
        raise MetricsInputError(
            f"{name}.{column_name}: unknown value(s) {shown}; one of {', '.join(allowed)}"
        )


def validate_inputs(
    *,
    opportunities: pa.Table | None = None,
    opportunity_stage_changes: pa.Table | None = None,
    touches: pa.Table | None = None,
    partners: pa.Table | None = None,
    partner_stage_changes: pa.Table | None = None,
    memberships: pa.Table | None = None,
    referrals: pa.Table | None = None,
    overlaps: pa.Table | None = None,
) -> MetricsInputs:
    """Check each given table against its schema; a table not given is empty."""
    given = {
        "opportunities": (opportunities, OPPORTUNITIES),
        "opportunity_stage_changes": (opportunity_stage_changes, OPPORTUNITY_STAGE_CHANGES),
        "touches": (touches, TOUCHES),
        "partners": (partners, PARTNERS),
        "partner_stage_changes": (partner_stage_changes, PARTNER_STAGE_CHANGES),
        "memberships": (memberships, MEMBERSHIPS),
        "referrals": (referrals, REFERRALS),
        "overlaps": (overlaps, OVERLAPS),
    }
    # Arrow's kernels and DuckDB release the GIL: the tables are checked two at a time (the machine's
    # cores), the costliest checks (unique keys) first; results are read in order, so the first invalid
    # table in this order is the one reported, and repeated keys once every table has the right shape.
    with ThreadPoolExecutor(max_workers=2) as pool:
        unique = [
            pool.submit(_check_unique, name, table, key)
            for name, (table, _schema) in given.items()
            for key in _UNIQUE_KEYS.get(name, ())
            if table is not None and key in table.column_names
        ]
        checks = {
            name: pool.submit(conform, name, table, schema)
            for name, (table, schema) in given.items()
            if table is not None
        }
        conformed = {
            name: checks[name].result() if name in checks else schema.empty_table()
            for name, (_table, schema) in given.items()
        }
        for check in unique:
            check.result()
    _check_touch_targets(conformed["touches"])
    _check_close_dates(conformed["opportunities"])
    return MetricsInputs(**conformed)


def _check_touch_targets(touches: pa.Table) -> None:
    def blank(column: str) -> pa.ChunkedArray:
        values = touches.column(column)
        return pc.or_kleene(pc.is_null(values), pc.equal(values, ""))

    orphans = pc.sum(pc.and_(blank("opportunity_crm_id"), blank("account_crm_id"))).as_py() or 0
    if orphans:
        raise MetricsInputError(f"touches: {orphans} touch(es) name neither an opportunity nor an account")


def _check_close_dates(opportunities: pa.Table) -> None:
    undated = pc.and_(opportunities.column("is_closed"), pc.is_null(opportunities.column("close_date")))
    count = pc.sum(undated).as_py() or 0
    if count:
        raise MetricsInputError(f"opportunities: {count} closed without a close date")
