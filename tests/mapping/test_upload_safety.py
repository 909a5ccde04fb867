"""A partner's list is read as strictly as an import: a damaged file or a value too long to store is
refused naming the file, line and column, and the partner's current list stays as it was."""

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ecoops.actors import SYSTEM
from ecoops.mapping.files import MappingFileError
from ecoops.mapping.models import PartnerUpload
from ecoops.mapping.overlaps import OverlapRow, write_overlaps_csv
from ecoops.mapping.uploads import upload_partner_list
from tests.factories import make_partner
from tests.mapping.test_mapping_runs import HEADER


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            HEADER.encode()
            + "P1,Müller GmbH,mueller.de,DE,Customers,Ann\n".encode()
            + b"P2,K\xfchl AG,kuehl.de,DE,,\n",
            r"list\.csv: line 3, byte 119, column 'Account Name': not UTF-8",
        ),
        (
            HEADER.encode() + b"P" * 121 + b",Acme,acme.com,US,,\n",
            r"list\.csv: line 2: 'Account ID' is 121 characters; at most 120",
        ),
        (
            HEADER.encode() + b"P1,Acme,acme.com," + b"C" * 81 + b",,\n",
            r"list\.csv: line 2: 'Billing Country' is 81 characters; at most 80",
        ),
    ],
    ids=["damaged utf-8", "long id", "long country"],
)
def test_a_list_that_cannot_be_stored_whole_is_refused(session, tmp_path, body, message):
    partner = make_partner(session)
    path = tmp_path / "list.csv"
    path.write_bytes(body)
    with pytest.raises(MappingFileError, match=message):
        upload_partner_list(session, SYSTEM, partner.id, path, "list.csv")
    assert session.scalar(select(func.count()).select_from(PartnerUpload)) == 0


def test_the_overlaps_export_neutralises_formulas_in_the_partners_column_names_and_cells():
    row = OverlapRow(
        our_crm_id="A1",
        our_name="=1+1",
        owner="",
        open_opportunities=0,
        open_amount=Decimal(0),
        their_id="@SUM(A1)",
        their_name="Acme",
        their_population="",
        their_fields={"=cmd|' /C calc'!A0": "+cmd"},
        method="domain",
        score=1.0,
        explanation={},
        our_populations=(),
    )
    out = io.StringIO()
    write_overlaps_csv([row], out)
    header, cells = list(csv.reader(io.StringIO(out.getvalue())))
    assert header[-1] == "'=cmd|' /C calc'!A0"
    assert (cells[1], cells[5], cells[-1]) == ("'=1+1", "'@SUM(A1)", "'+cmd")
