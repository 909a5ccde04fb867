"""Input tables are checked once, with errors that name the table, the column and what is wrong."""

import re
from datetime import date

import pyarrow as pa
import pytest

from ecoops.attribution.models import TOUCH_CLASS
from ecoops.engines.metrics import MetricsInputError, validate_inputs
from ecoops.engines.metrics import inputs as schemas
from ecoops.partners.models import STAGE_ORDER
from tests.engines.metrics.factories import Scenario

DAY = date(2024, 1, 1)


def test_missing_tables_are_empty_and_compatible_types_are_cast():
    scenario = Scenario()
    scenario.opportunity("O1", DAY)
    table = scenario.tables()["opportunities"]
    table = table.set_column(table.schema.get_field_index("amount"), "amount", pa.array([1000], pa.int32()))
    inputs = validate_inputs(opportunities=table.append_column("extra", pa.array(["dropped"])))
    assert inputs.opportunities.schema == schemas.OPPORTUNITIES
    assert inputs.opportunities.column("amount").to_pylist() == [1000.0]
    assert inputs.touches.num_rows == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop_columns(["created_on"]), "opportunities: missing column(s) created_on"),
        (lambda t: t.set_column(4, "created_on", pa.array(["soon"])), "opportunities.created_on: is string"),
        (lambda t: t.set_column(1, "crm_id", pa.array([None], pa.string())), "crm_id: 1 empty value(s)"),
        (lambda t: t.drop_columns(["opportunity_id"]), "opportunities: missing column(s) opportunity_id"),
    ],
)
def test_malformed_opportunities_are_refused_by_name(change, message):
    scenario = Scenario()
    scenario.opportunity("O1", DAY)
    table = scenario.tables()["opportunities"]
    with pytest.raises(MetricsInputError, match=re.escape(message)):
        validate_inputs(opportunities=change(table))


def test_unknown_vocabulary_repeated_ids_and_orphan_touches_are_refused():
    scenario = Scenario()
    scenario.touch(1, "O1", "handshake", DAY)
    with pytest.raises(MetricsInputError, match=r"touches.kind: unknown value\(s\) 'handshake'"):
        scenario.inputs()
    scenario = Scenario()
    scenario.opportunity("O1", DAY)
    scenario.opportunity("O1", DAY)
    with pytest.raises(MetricsInputError, match=r"opportunities\.crm_id: values repeat"):
        scenario.inputs()
    scenario = Scenario()
    scenario.opportunity("O1", DAY)
    scenario.opportunity("O2", DAY)
    numbered = scenario.tables()
    numbered["opportunities"] = numbered["opportunities"].set_column(0, "opportunity_id", pa.array([1, 1]))
    with pytest.raises(MetricsInputError, match=r"opportunities\.opportunity_id: values repeat"):
        validate_inputs(**numbered)
    scenario = Scenario()
    scenario.touch(1, "", "co_sell", DAY, account_crm_id=None)
    with pytest.raises(MetricsInputError, match="name neither an opportunity nor an account"):
        scenario.inputs()


@pytest.mark.parametrize(
    ("ids", "repeat"), [([1, 2, 3], False), ([3, 1, 2], False), ([1, 2, 2], True), ([2, 1, 2], True)]
)
def test_repeated_opportunity_ids_are_found_in_any_order(ids, repeat):
    scenario = Scenario()
    for n in range(3):
        scenario.opportunity(f"O{n}", DAY)
    tables = scenario.tables()
    tables["opportunities"] = tables["opportunities"].set_column(0, "opportunity_id", pa.array(ids))
    if repeat:
        with pytest.raises(MetricsInputError, match=r"opportunities\.opportunity_id: values repeat"):
            validate_inputs(**tables)
    else:
        assert validate_inputs(**tables).opportunities.column("opportunity_id").to_pylist() == ids


def test_a_closed_record_needs_its_close_date():
    scenario = Scenario()
    scenario.opportunity("O1", DAY, is_closed=True, is_won=True)
    with pytest.raises(MetricsInputError, match="closed without a close date"):
        scenario.inputs()


def test_the_engine_vocabularies_are_the_stored_ones():
    engine_classes = {k: "sourcing" for k in schemas.SOURCING_KINDS}
    engine_classes |= {k: "influence" for k in schemas.INFLUENCE_KINDS}
    engine_classes |= {k: "delivery" for k in schemas.DELIVERY_KINDS}
    assert engine_classes == {str(kind): cls for kind, cls in TOUCH_CLASS.items()}
    assert tuple(str(stage) for stage in STAGE_ORDER) == schemas.PARTNER_STAGES
