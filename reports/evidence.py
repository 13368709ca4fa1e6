"""Evidence files: which uploads are accepted, decided from their bytes, and the name kept.

Pure functions, no database and no storage: the upload view stores only what `check_upload`
accepts. A file's type is what its content is (a PDF starts with %PDF-, a DOCX is a zip whose
[Content_Types].xml declares a Word document), and its extension must agree: an HTML page
renamed .pdf is refused, and so is a real PDF renamed .docx.
"""

from __future__ import annotations

import unicodedata
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

MAX_NAME = 200
MAX_FILES_PER_ITEM = 10
# [Content_Types].xml is a few kilobytes; read no more of it than this, however it unzips.
MAX_CONTENT_TYPES = 64 * 1024
# Device names Windows will not open as files, whatever the extension ("con.pdf").
RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)]
)
# Control, format (bidirectional overrides that disguise "exe.pdf"), surrogate and private
# characters, and the Unicode line and paragraph separators.
_REFUSED_CATEGORIES = frozenset(["Cc", "Cf", "Cs", "Co", "Zl", "Zp"])


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extensions: tuple[str, ...]  # the first is the one a stored file gets


PDF = FileType("PDF", "application/pdf", ("pdf",))
JPEG = FileType("JPEG", "image/jpeg", ("jpg", "jpeg"))
PNG = FileType("PNG", "image/png", ("png",))
DOCX = FileType(
    "Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ("docx",),
)
XLSX = FileType(
    "Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)
)
DOC = FileType("Word 97-2003", "application/msword", ("doc",))
XLS = FileType("Excel 97-2003", "application/vnd.ms-excel", ("xls",))
FILE_TYPES = (PDF, JPEG, PNG, DOCX, XLSX, DOC, XLS)

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML_MAIN = {
    DOCX: b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
# Streams of a legacy Office file, named in its directory in UTF-16.
_OLE_STREAMS = {
    DOC: ["WordDocument".encode("utf-16-le")],
    XLS: ["Workbook".encode("utf-16-le"), "Book".encode("utf-16-le")],
}


class Refused(Exception):
    """An upload refused, with the reason for the liaison."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def extension_for(content_type: str) -> str:
    """The extension a stored file of this (detected) content type gets."""
    return next(t.extensions[0] for t in FILE_TYPES if t.content_type == content_type)


def clean_name(raw: str) -> str:
    """The name to keep and show, or Refused: one plain file name of at most MAX_NAME
    characters, without path, control characters or a name Windows reserves for devices."""
    if any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in raw):
        raise Refused(_("文件名含有换行等控制字符,请改名后再上传。"))
    if "/" in raw or "\\" in raw:
        raise Refused(_("文件名不能包含路径(“/”或“\\”),请改名后再上传。"))
    name = unicodedata.normalize("NFC", raw).strip()
    if len(name) > MAX_NAME:
        raise Refused(
            _("文件名过长(%(n)s 个字符,最多 %(max)s 个),请改名后再上传。")
            % {"n": len(name), "max": MAX_NAME}
        )
    stem = name.rpartition(".")[0] if "." in name else name
    if not stem.strip(". "):
        raise Refused(_("文件名无效,请改名后再上传。"))
    if name.split(".")[0].strip().upper() in RESERVED_NAMES:
        raise Refused(_("“%(name)s”是系统保留的文件名,请改名后再上传。") % {"name": name})
    return name


def detect(f: BinaryIO) -> list[FileType]:
    """The accepted types the content is, from its bytes alone (most often one, or none).

    A legacy Office file is a container of streams: it is a Word document if it holds a
    WordDocument stream, a workbook if it holds a Workbook; one embedding the other is both.
    """
    f.seek(0)
    head = f.read(8)
    f.seek(0)
    if head.startswith(b"%PDF-"):
        return [PDF]
    if head.startswith(b"\xff\xd8\xff"):
        return [JPEG]
    if head == b"\x89PNG\r\n\x1a\n":
        return [PNG]
    if head.startswith(b"PK\x03\x04"):
        return _detect_ooxml(f)
    if head == _OLE:
        data = f.read()
        f.seek(0)
        return [t for t, names in _OLE_STREAMS.items() if any(n in data for n in names)]
    return []


def _detect_ooxml(f: BinaryIO) -> list[FileType]:
    try:
        with zipfile.ZipFile(f) as archive, archive.open("[Content_Types].xml") as part:
            declared = part.read(MAX_CONTENT_TYPES)
    except (KeyError, OSError, EOFError, RuntimeError, ValueError, zipfile.BadZipFile):
        return []  # not a zip after all, encrypted, or no [Content_Types].xml
    finally:
        f.seek(0)
    return [t for t, main in _OOXML_MAIN.items() if main in declared]


def check_upload(name: str, size: int, f: BinaryIO, *, max_bytes: int) -> tuple[str, FileType]:
    """The cleaned name and the type of an upload, or Refused with the reason."""
    if size == 0:
        raise Refused(_("文件是空的,未上传。"))
    if size > max_bytes:
        raise Refused(
            _("文件过大(%(size)s):每个文件最大 %(max)s。")
            % {"size": filesizeformat(size), "max": filesizeformat(max_bytes)}
        )
    name = clean_name(name)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    allowed = [t for t in FILE_TYPES if extension in t.extensions]
    if not allowed:
        raise Refused(
            _("只能上传 PDF、JPG、PNG 图片或 Word、Excel 文件(扩展名 %(extensions)s)。")
            % {"extensions": " ".join(f".{e}" for t in FILE_TYPES for e in t.extensions)}
        )
    found = detect(f)
    if not found:
        raise Refused(
            _("文件内容不是 PDF、JPG、PNG、Word 或 Excel 文件(按内容识别,不看扩展名),未上传。")
        )
    for file_type in found:
        if file_type in allowed:
            return name, file_type
    raise Refused(
        _("文件扩展名“.%(ext)s”与文件内容(%(kind)s)不符,未上传。")
        % {"ext": extension, "kind": found[0].label}
    )
