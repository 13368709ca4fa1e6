"""Which evidence files are accepted (reports/evidence.py): by content, with a matching name.

No database: the sample files are built here, byte by byte, and shared with test_evidence.py.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from reports.evidence import (
    DOC,
    DOCX,
    JPEG,
    MAX_NAME,
    PDF,
    PNG,
    XLS,
    XLSX,
    Refused,
    check_upload,
    clean_name,
    detect,
    extension_for,
)

# -- Sample files ------------------------------------------------------------------------------

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
    b"trailer <</Root 1 0 R>>\n%%EOF\n"
)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_BYTES = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE_BYTES = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
)

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
WORD_MACROS = "application/vnd.ms-word.document.macroEnabled.main+xml"


def png_bytes() -> bytes:
    """A 1×1 white PNG, chunks and checksums written out."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8 bits, RGB
    pixels = zlib.compress(b"\x00\xff\xff\xff")  # filter byte, one white pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def ooxml_bytes(main: str = WORD_MAIN, part: str = "/word/document.xml", padding: int = 0) -> bytes:
    """An Office Open XML package: a zip whose [Content_Types].xml declares its main part.

    `padding` puts that many spaces before the declaration (a declaration read only in part).
    """
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        + " "
        * padding
        + '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="{part}" ContentType="{main}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(part.lstrip("/"), "<document/>")
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return ooxml_bytes()


def xlsx_bytes() -> bytes:
    return ooxml_bytes(EXCEL_MAIN, "/xl/workbook.xml")


def plain_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def ole_bytes(*streams: str) -> bytes:
    """A legacy Office container: the OLE signature, then directory entries naming streams."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    entries = b"".join(s.encode("utf-16-le").ljust(128, b"\x00") for s in ["Root Entry", *streams])
    return header + entries


def doc_bytes() -> bytes:
    return ole_bytes("WordDocument", "1Table")


def xls_bytes() -> bytes:
    return ole_bytes("Workbook")


def check(name: str, content: bytes, *, max_bytes: int = 10 * 1024 * 1024):
    return check_upload(name, len(content), io.BytesIO(content), max_bytes=max_bytes)


# -- Detection by content ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF_BYTES, [PDF]),
        (JPEG_BYTES, [JPEG]),
        (png_bytes(), [PNG]),
        (docx_bytes(), [DOCX]),
        (xlsx_bytes(), [XLSX]),
        (doc_bytes(), [DOC]),
        (xls_bytes(), [XLS]),
        (ole_bytes("WordDocument", "ObjectPool", "Workbook"), [DOC, XLS]),  # one embeds the other
        (ole_bytes("PowerPoint Document"), []),
        (ooxml_bytes(WORD_MACROS), []),
        (plain_zip_bytes(), []),
        (b"PK\x03\x04 not really a zip", []),
        (HTML_BYTES, []),
        (SVG_BYTES, []),
        (EXE_BYTES, []),
        (b" %PDF-1.4", []),  # the signature must come first
        (b"", []),
    ],
)
def test_detect_reads_the_type_from_the_content(content, expected):
    assert detect(io.BytesIO(content)) == expected


def test_detect_reads_only_the_start_of_a_huge_content_types_declaration():
    # 5 MB of spaces unzip from a few kilobytes; the declaration after them is never reached.
    bomb = ooxml_bytes(padding=5 * 1024 * 1024)
    assert len(bomb) < 50_000
    assert detect(io.BytesIO(bomb)) == []


def test_detect_leaves_the_file_at_its_start():
    f = io.BytesIO(docx_bytes())
    detect(f)
    assert f.tell() == 0


@pytest.mark.parametrize(
    ("content_type", "extension"),
    [(PDF.content_type, "pdf"), (JPEG.content_type, "jpg"), (DOCX.content_type, "docx")],
)
def test_stored_files_get_the_extension_of_their_detected_type(content_type, extension):
    assert extension_for(content_type) == extension


# -- Names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("养老床位验收证明.pdf", "养老床位验收证明.pdf"),
        ("  照片 1.JPG  ", "照片 1.JPG"),
        ("2019年上半年.工作总结.docx", "2019年上半年.工作总结.docx"),
        ("e\u0301.pdf", "\u00e9.pdf"),  # one way of writing é, whatever the system sent
        ("console.pdf", "console.pdf"),  # only the exact device names are reserved
        ("x" * (MAX_NAME - 4) + ".pdf", "x" * (MAX_NAME - 4) + ".pdf"),
    ],
)
def test_clean_name_keeps_plain_names(raw, expected):
    assert clean_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("../../etc/passwd", "路径"),
        ("..\\..\\windows\\win.ini", "路径"),
        ("reports/2019.pdf", "路径"),
        ("a\x00b.pdf", "控制字符"),
        ("a\nb.pdf", "控制字符"),
        ("a\r\nContent-Type: text/html.pdf", "控制字符"),
        ("a\u2028b.pdf", "控制字符"),
        ("invoice\u202efdp.exe", "控制字符"),  # shows as "invoiceexe.pdf"
        ("x" * 10_000, "过长"),
        ("x" * (MAX_NAME - 3) + ".pdf", "过长"),
        ("con.pdf", "保留"),
        ("CON.pdf", "保留"),
        ("Aux.tar.pdf", "保留"),
        ("lpt1.docx", "保留"),
        ("nul", "保留"),
        (".pdf", "无效"),
        ("..", "无效"),
        ("", "无效"),
        ("   ", "无效"),
    ],
)
def test_clean_name_refuses_crafted_names(raw, reason):
    with pytest.raises(Refused) as refused:
        clean_name(raw)
    assert reason in refused.value.message


# -- The whole check -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("证明.pdf", PDF_BYTES, PDF),
        ("现场.jpg", JPEG_BYTES, JPEG),
        ("现场.JPEG", JPEG_BYTES, JPEG),
        ("现场.png", png_bytes(), PNG),
        ("总结.docx", docx_bytes(), DOCX),
        ("台账.xlsx", xlsx_bytes(), XLSX),
        ("总结.doc", doc_bytes(), DOC),
        ("台账.xls", xls_bytes(), XLS),
        ("台账.xls", ole_bytes("WordDocument", "Workbook"), XLS),
    ],
)
def test_check_upload_accepts_office_files_images_and_pdfs(name, content, expected):
    assert check(name, content) == (name, expected)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("通知.pdf", HTML_BYTES, "文件内容不是"),  # an HTML page renamed
        ("图.png", SVG_BYTES, "文件内容不是"),
        ("总结.docx", ooxml_bytes(WORD_MACROS), "文件内容不是"),  # macros: a .docm renamed
        ("总结.docx", plain_zip_bytes(), "文件内容不是"),
        ("演示.doc", ole_bytes("PowerPoint Document"), "文件内容不是"),
        ("通知.html", HTML_BYTES, "只能上传"),
        ("图.svg", SVG_BYTES, "只能上传"),
        ("setup.exe", EXE_BYTES, "只能上传"),
        ("证明.pdf.exe", PDF_BYTES, "只能上传"),
        ("压缩包.zip", docx_bytes(), "只能上传"),
        ("passwd", PDF_BYTES, "只能上传"),  # what Django leaves of "../../etc/passwd"
        ("证明", PDF_BYTES, "只能上传"),
        ("证明.docx", PDF_BYTES, "不符"),  # a real PDF, under another type's name
        ("照片.png", JPEG_BYTES, "不符"),
        ("台账.xls", doc_bytes(), "不符"),
        ("空白.pdf", b"", "空"),
        ("con.pdf", PDF_BYTES, "保留"),
    ],
)
def test_check_upload_refuses_with_the_reason(name, content, reason):
    with pytest.raises(Refused) as refused:
        check(name, content)
    assert reason in refused.value.message


def test_check_upload_refuses_files_over_the_limit_before_reading_them():
    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("an oversized file is not read")

    with pytest.raises(Refused) as refused:
        check_upload("大.pdf", 10 * 1024 * 1024 + 1, Unreadable(), max_bytes=10 * 1024 * 1024)
    assert "过大" in refused.value.message and "10.0" in refused.value.message
    assert check("刚好.pdf", PDF_BYTES, max_bytes=len(PDF_BYTES)) == ("刚好.pdf", PDF)
