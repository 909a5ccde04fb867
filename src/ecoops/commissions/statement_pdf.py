"""A statement as PDF (fpdf2): the HTML statement's lines, states and explanations, with its totals.

The core Helvetica font is used so nothing is embedded or fetched; it covers Latin-1, so the few other
characters ecoops writes (dashes, quotes, arrows) are spelt in Latin-1 and any other is shown as "?".
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.fonts import FontFace

from ecoops.commissions.plans import money
from ecoops.commissions.statements import GUIDE, Statement

_PLAIN = str.maketrans(
    {
        "\u2014": "-",  # em dash
        "\u2013": "-",  # en dash
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2192": "->",
        "\u2265": ">=",
        "\u2264": "<=",
    }
)
# Landscape A4 less 10 mm margins: 277 mm.
_COLUMNS = (("earned", 21), ("line", 27), ("deal / referral", 38), ("amount", 28), ("state", 36))
_EXPLANATION_MM = 277 - sum(width for _name, width in _COLUMNS)


def latin1(text: str) -> str:
    """`text` as the core fonts can print it."""
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _state(line_status: str, reason: str, bill: str, paid_on: object) -> str:
    parts = [line_status]
    if reason:
        parts.append(reason)
    if paid_on:
        parts.append(f"{bill}, paid {paid_on}")
    return "\n".join(parts)


class _Document(FPDF):
    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", "", 7)
        self.cell(0, 4, f"{self.title} - page {self.page_no()} of {{nb}}", align="R")


def render_pdf(found: Statement) -> bytes:
    """The statement as a PDF document (landscape A4, pages numbered)."""
    s = found
    pdf = _Document(orientation="L", unit="mm", format="A4")
    pdf.set_title(latin1(f"Commission statement {s.partner.name} {s.period}"))
    pdf.set_creator("ecoops")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, latin1(f"Commission statement: {s.partner.name}, {s.period}"), new_x="LMARGIN")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, latin1(GUIDE), new_x="LMARGIN")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, latin1(f"Earned this month: {money(s.earned, s.currency)}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    states = "   ".join(f"{state}: {money(total, s.currency)}" for state, total in s.totals.items())
    if states:
        pdf.cell(0, 6, latin1(states), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if not s.lines:
        pdf.cell(0, 7, latin1(f"No commission lines in {s.period}."), new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.set_font("Helvetica", "", 8)
        widths = (*(width for _name, width in _COLUMNS), _EXPLANATION_MM)
        with pdf.table(
            col_widths=widths,
            text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "LEFT", "LEFT"),
            headings_style=FontFace(emphasis="BOLD"),
            line_height=4,
            padding=1,
        ) as table:
            heading = table.row()
            for name in (*(name for name, _width in _COLUMNS), "explanation"):
                heading.cell(name)
            for e in s.lines:
                row = table.row()
                row.cell(str(e.earned_on))
                row.cell(latin1(f"#{e.id} {e.kind}" + (f" of #{e.reverses_id}" if e.reverses_id else "")))
                row.cell(latin1(e.subject))
                row.cell(money(e.amount_cents, e.currency))
                row.cell(latin1(_state(e.status, e.status_reason, e.bill_number, e.paid_on)))
                row.cell(latin1(e.explanation))
    return bytes(pdf.output())
