"""Day-first or month-first is settled per file from its unambiguous dates, and a contradiction is refused."""

from datetime import date

from sqlalchemy import select

from ecoops.actors import SYSTEM
from ecoops.crm.imports import service
from ecoops.crm.imports.values import DateOrder
from ecoops.crm.models import Opportunity
from tests.crm.imports.files import WORKSPACE, run, write_csv


def _inspect(path, **request):
    return service.inspect_file(
        SYSTEM, path, filename=path.name, request=service.ImportRequest(**request), workspace=WORKSPACE
    )


def test_a_later_unambiguous_date_settles_the_earlier_ambiguous_ones(session, tmp_path):
    text = (
        "Id,StageName,CloseDate\n1,Prospecting,03/04/2025\n2,Prospecting,05/06/2025\n"
        "3,Prospecting,25/12/2025\n"
    )
    path = write_csv(tmp_path, text)
    inspection = _inspect(path)
    assert (inspection.date_order, inspection.date_order_source) == (DateOrder.DMY, "detected")
    run(session, path)
    dates = dict(session.execute(select(Opportunity.crm_id, Opportunity.close_date)).all())
    assert dates == {"1": date(2025, 4, 3), "2": date(2025, 6, 5), "3": date(2025, 12, 25)}


def test_month_first_when_nothing_says_otherwise(tmp_path):
    path = write_csv(tmp_path, "Id,StageName,CloseDate\n1,Prospecting,03/04/2025\n")
    assert (_inspect(path).date_order, _inspect(path).date_order_source) == (DateOrder.MDY, "default")
    assert _inspect(path, date_order=DateOrder.DMY).date_order_source == "given"


def test_a_date_against_the_file_order_is_a_row_error(session, tmp_path):
    text = (
        "Id,StageName,CloseDate\n1,Prospecting,12/31/2025\n2,Prospecting,11/30/2025\n"
        "3,Prospecting,31/12/2025\n"
    )
    outcome = run(session, write_csv(tmp_path, text))
    assert [(p.line, p.field) for p in outcome.problems] == [(4, "CloseDate")]
    assert "set the date order to DMY" in outcome.problems[0].message
