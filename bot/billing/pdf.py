"""A bill's PDF copy (issue 12), drawn with fpdf2 from the rows bot/formatters.py writes.

The core Helvetica font in Windows-1252 covers Italian letters and "€" without shipping a font
file. The PDF is made on request from the bill's data and never stored.
"""

from __future__ import annotations

from fpdf import FPDF

TITLE_SIZE, TEXT_SIZE, NOTE_SIZE = 16, 11, 8
LABEL_WIDTH = 60  # mm
ROW_HEIGHT = 8  # mm


def render(title: str, rows: list[tuple[str, str]], note: str, issuer: str) -> bytes:
    """The PDF bytes: the issuer, the title, one row per (label, value), the closing note."""
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(title)
    pdf.set_author(issuer)
    pdf.set_creator(issuer)
    pdf.add_page()
    pdf.set_font("helvetica", style="B", size=TEXT_SIZE)
    pdf.cell(text=issuer, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", style="B", size=TITLE_SIZE)
    pdf.cell(text=title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for label, value in rows:
        pdf.set_font("helvetica", style="B", size=TEXT_SIZE)
        pdf.cell(LABEL_WIDTH, ROW_HEIGHT, label, border="B")
        pdf.set_font("helvetica", size=TEXT_SIZE)
        pdf.cell(0, ROW_HEIGHT, value, border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("helvetica", style="I", size=NOTE_SIZE)
    pdf.multi_cell(0, 5, note)
    return bytes(pdf.output())
