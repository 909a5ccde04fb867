"""A report as data (titled sections of figures and tables) and its two renderings: HTML for e-mail and
PDF (fpdf2, core fonts, as the commission statements). Pages render the same data with a template."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

from fpdf import FPDF
from fpdf.fonts import FontFace

from ecoops.commissions.statement_pdf import latin1

NOT_DEFINED = "not defined"


def money(amount: Decimal | float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def share(value: Decimal | float | None) -> str:
    """A ratio as a percentage; "not defined" for a ratio whose denominator was 0."""
    return NOT_DEFINED if value is None else f"{value:.1%}"


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    link: str = ""  # a path in ecoops to the records behind it


@dataclass(frozen=True)
class Section:
    title: str
    figures: list[Figure] = field(default_factory=list)
    headers: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    sections: list[Section]


def to_html(document: Document, base_url: str) -> str:
    """The document as an e-mail's HTML part; links made absolute on `base_url`."""
    base = base_url.rstrip("/")
    parts = [f"<h1>{escape(document.title)}</h1>", f"<p>{escape(document.subtitle)}</p>"]
    for section in document.sections:
        parts.append(f"<h2>{escape(section.title)}</h2>")
        if section.note:
            parts.append(f"<p><small>{escape(section.note)}</small></p>")
        if section.figures:
            parts.append("<table>")
            for f in section.figures:
                link = f' <a href="{escape(base + f.link)}">records</a>' if f.link else ""
                cells = f'<td>{escape(f.label)}</td><td align="right">{escape(f.value)}</td><td>{link}</td>'
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</table>")
        if section.rows:
            head = "".join(f"<th>{escape(h)}</th>" for h in section.headers)
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in section.rows
            )
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
    return "\n".join(parts)


def to_text(document: Document) -> str:
    lines = [document.title, document.subtitle, ""]
    for section in document.sections:
        lines.append(section.title)
        lines += [f"- {f.label}: {f.value}" for f in section.figures]
        lines += ["- " + " | ".join(row) for row in section.rows]
        lines.append("")
    return "\n".join(lines)


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", "", 7)
        self.cell(0, 4, f"{self.title} - page {self.page_no()} of {{nb}}", align="R")


def to_pdf(document: Document) -> bytes:
    """The document as a PDF (portrait A4, pages numbered)."""
    pdf = _Pdf(orientation="P", unit="mm", format="A4")
    pdf.set_title(latin1(document.title))
    pdf.set_creator("ecoops")
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, latin1(document.title), new_x="LMARGIN")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, latin1(document.subtitle), new_x="LMARGIN")
    for section in document.sections:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, latin1(section.title), new_x="LMARGIN")
        pdf.set_font("Helvetica", "", 9)
        if section.note:
            pdf.multi_cell(0, 5, latin1(section.note), new_x="LMARGIN")
        if section.figures:
            with pdf.table(
                col_widths=(120, 66),
                text_align=("LEFT", "RIGHT"),
                first_row_as_headings=False,
                line_height=5,
                padding=1,
            ) as table:
                for f in section.figures:
                    row = table.row()
                    row.cell(latin1(f.label))
                    row.cell(latin1(f.value))
        if section.rows:
            with pdf.table(headings_style=FontFace(emphasis="BOLD"), line_height=5, padding=1) as table:
                heading = table.row()
                for h in section.headers:
                    heading.cell(latin1(h))
                for values in section.rows:
                    row = table.row()
                    for value in values:
                        row.cell(latin1(value))
    return bytes(pdf.output())
