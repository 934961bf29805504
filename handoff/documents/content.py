"""What a customer's file is, decided from its bytes, and a clean copy of it.

Pure: bytes in, a ``Checked`` document or a ``DocumentRefused`` out. The
file's name and declared type count for nothing:

- the first bytes say JPEG, PNG, WebP or PDF, or the file is refused
  (``unsupported_type``: SVG, HTML, GIF, archives, executables...);
- an image is decoded (only by the decoder of the sniffed format) and
  encoded again, so what is stored is pixels and nothing else: EXIF (GPS),
  comments, ICC profiles and anything appended after the image (a zip or
  HTML tail of a polyglot) are gone. Its declared size is checked before
  it is decoded (``image_too_large``), as is Pillow's own bomb limit;
- a PDF is opened with pypdf: encrypted ones (``pdf_encrypted``) and ones
  with JavaScript or automatic actions (``/JS``, ``/JavaScript``, ``/AA``,
  an ``/OpenAction`` or any action running a script or a program:
  ``pdf_script``) are refused;
- the name is reduced to a plain base name with the extension of the real
  type (``../../etc/passwd.png`` becomes ``passwd.png``); it is only shown,
  never used as a path.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

from handoff.documents.refusals import TOO_LARGE, DocumentRefused

__all__ = [
    "Checked",
    "sniff",
    "check_document",
    "clean_image",
    "check_pdf",
    "safe_filename",
    "IMAGE",
    "PDF",
    "DEFAULT_MAX_PIXELS",
]

IMAGE: Final = "image"
PDF: Final = "pdf"
DEFAULT_MAX_PIXELS: Final = 40_000_000  # a 40-megapixel photo; a screenshot is a few
_MAX_FILENAME: Final = 120
# sniffed format -> (Pillow format, content type, extension)
_TYPES: Final = {
    "jpeg": ("JPEG", "image/jpeg", ".jpg"),
    "png": ("PNG", "image/png", ".png"),
    "webp": ("WEBP", "image/webp", ".webp"),
    "pdf": (None, "application/pdf", ".pdf"),
}
# PDF names that run something when the file is opened or touched
_SCRIPT_KEYS: Final = frozenset({"/JS", "/JavaScript", "/AA", "/OpenAction", "/Launch", "/RichMedia"})
_SCRIPT_ACTIONS: Final = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/RichMediaExecute"})
_MAX_PDF_OBJECTS: Final = 200_000


@dataclass(frozen=True)
class Checked:
    """A document fit to store: ``data`` is what is kept (an image re-encoded)."""

    kind: str  # image | pdf
    content_type: str
    data: bytes
    filename: str


def sniff(data: bytes) -> str | None:
    """The format the bytes start with: jpeg, png, webp, pdf, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def check_document(data: bytes, filename: str, *, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> Checked:
    """The document to store for ``data``, or ``DocumentRefused``."""
    if not data:
        raise DocumentRefused("empty")
    if len(data) > max_bytes:
        raise DocumentRefused(TOO_LARGE)
    found = sniff(data)
    if found is None:
        raise DocumentRefused("unsupported_type")
    pillow_format, content_type, extension = _TYPES[found]
    name = safe_filename(filename, extension)
    if pillow_format is None:
        check_pdf(data)
        return Checked(PDF, content_type, data, name)
    return Checked(IMAGE, content_type, clean_image(data, pillow_format, max_pixels=max_pixels), name)


def clean_image(data: bytes, pillow_format: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """The image's pixels encoded again in its own format, with no metadata."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as img:
                width, height = img.size
                if width < 1 or height < 1 or width * height > max_pixels:
                    raise DocumentRefused("image_too_large")
                img.seek(0)  # an animation keeps its first frame
                img.load()
                clean = _pixels_only(_encodable(ImageOps.exif_transpose(img), pillow_format))
        except DocumentRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise DocumentRefused("image_too_large") from None
        except Exception:  # any decoder error: not the image it claims to be
            raise DocumentRefused("unreadable") from None
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": 90} if pillow_format in ("JPEG", "WEBP") else {"optimize": True}
    clean.save(out, format=pillow_format, **options)
    return out.getvalue()


def _pixels_only(img: Image.Image) -> Image.Image:
    """A new image with ``img``'s pixels (and palette) and no ``info``."""
    clean = Image.new(img.mode, img.size)
    if img.mode == "P":
        palette = img.getpalette()
        if palette is not None:
            clean.putpalette(palette)
    clean.paste(img)
    return clean


def _encodable(img: Image.Image, pillow_format: str) -> Image.Image:
    if pillow_format == "JPEG":
        return img if img.mode in ("L", "RGB") else img.convert("RGB")
    if pillow_format == "WEBP":
        return img if img.mode in ("RGB", "RGBA") else img.convert("RGBA")
    return img if img.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else img.convert("RGBA")


def check_pdf(data: bytes) -> None:
    """Refuse an unreadable, encrypted or scripted PDF."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DocumentRefused("pdf_encrypted")
        if len(reader.pages) < 1:
            raise DocumentRefused("unreadable")
        trailer = reader.trailer
        for node in _walk(trailer):
            if _runs_something(node):
                raise DocumentRefused("pdf_script")
    except DocumentRefused:
        raise
    except Exception:  # pypdf's errors, recursion, malformed objects
        raise DocumentRefused("unreadable") from None


def _runs_something(node: DictionaryObject) -> bool:
    if any(key in _SCRIPT_KEYS for key in node):
        return True
    action = node.get("/S")
    return isinstance(action, NameObject) and str(action) in _SCRIPT_ACTIONS


def _walk(root: PdfObject) -> Iterator[DictionaryObject]:
    """Every dictionary reachable from ``root`` (streams' dictionaries too),
    each indirect object once."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [root]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        visited += 1
        if visited > _MAX_PDF_OBJECTS:
            raise DocumentRefused("unreadable")
        if isinstance(item, DictionaryObject):
            yield item
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)


_UNSAFE = re.compile(r"[^\w.\- ()+,]+")


def safe_filename(filename: str, extension: str) -> str:
    """A base name to show: no directories, no control or odd characters,
    at most 120 characters, ending in ``extension`` (the real type's)."""
    base = unicodedata.normalize("NFKC", str(filename or "")).replace("\\", "/").split("/")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _UNSAFE.sub("_", stem).strip(" ._-")
    stem = re.sub(r"_+", "_", stem)[: _MAX_FILENAME - len(extension)].strip(" ._-")
    return (stem or "document") + extension
