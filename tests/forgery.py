"""Forged minutes, made the way an attacker would: an unsigned incremental update (pyHanko's
IncrementalPdfFileWriter) appended to the stored final PDF, before the attacker's own signature.
Shared by the PDF tests and the upload tests."""
from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject

FORGED_SCORE = b"Tong diem: 100/100 - Xuat sac"


def _helvetica(writer) -> generic.IndirectObject:
    return writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
        pdf_name("/BaseFont"): pdf_name("/Helvetica")}))


def white_box_and_new_score(writer) -> None:
    """A white rectangle over a paragraph of page 1, and a new total score written on it."""
    content = (b"q 1 1 1 rg 60 520 480 90 re f Q "
               b"BT /FForged 14 Tf 1 0 0 1 80 560 Tm (" + FORGED_SCORE + b") Tj ET")
    stream = writer.add_object(generic.StreamObject(stream_data=content))
    fonts = generic.DictionaryObject({pdf_name("/FForged"): _helvetica(writer)})
    writer.add_stream_to_page(0, stream, resources=generic.DictionaryObject(
        {pdf_name("/Font"): fonts}))


def new_annotation(writer) -> None:
    """A free-text annotation (a comment box a viewer draws over the page) on page 1."""
    page_ref, _ = writer.find_page_for_modification(0)
    annotation = writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/FreeText"),
        pdf_name("/Rect"): generic.ArrayObject(map(generic.FloatObject, (60, 520, 540, 610))),
        pdf_name("/Contents"): generic.TextStringObject("Tổng điểm: 100/100 — Xuất sắc"),
        pdf_name("/DA"): generic.TextStringObject("/Helv 14 Tf 0 g"),
        pdf_name("/P"): page_ref}))
    writer.register_annotation(page_ref, annotation)


def new_form_field(writer) -> None:
    """A text field with a value, its widget on page 1 and listed in the form."""
    page_ref, _ = writer.find_page_for_modification(0)
    field = writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): generic.TextStringObject("TongDiem"),
        pdf_name("/V"): generic.TextStringObject("100/100"),
        pdf_name("/Rect"): generic.ArrayObject(map(generic.FloatObject, (60, 520, 540, 610))),
        pdf_name("/P"): page_ref}))
    writer.register_annotation(page_ref, field)
    form = writer.root["/AcroForm"]
    fields = form["/Fields"]
    fields.append(field)
    writer.update_container(fields)


def new_page(writer) -> None:
    """A page added at the end (say, an "appendix" with other figures)."""
    content = writer.add_object(generic.StreamObject(
        stream_data=b"BT /FForged 14 Tf 72 760 Td (Phu luc bo sung: " + FORGED_SCORE + b") Tj ET"))
    resources = generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject(
        {pdf_name("/FForged"): _helvetica(writer)})})
    writer.insert_page(PageObject(contents=content, media_box=(0, 0, 595.28, 841.89),
                                  resources=resources))


ATTACKS = {
    "page content": white_box_and_new_score,
    "annotation": new_annotation,
    "form field": new_form_field,
    "new page": new_page,
}


def unsigned_update(pdf: bytes, attack) -> bytes:
    """The PDF with one unsigned incremental update made by `attack(writer)`."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    attack(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
