"""handoff/documents/content.py: types from content, clean copies, refusals."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from handoff.documents.content import check_document, safe_filename, sniff
from handoff.documents.refusals import REFUSAL_CODES, DocumentRefused
from tests.handoff.documents_files import (
    EICAR,
    jpeg_with_gps,
    pdf,
    png,
    png_bomb,
    svg_with_script,
    webp,
    zip_bytes,
)

LIMIT = 10 * 1024 * 1024


def refusal(data: bytes, name: str = "file.png", **kwargs: int) -> str:
    with pytest.raises(DocumentRefused) as caught:
        check_document(data, name, max_bytes=kwargs.pop("max_bytes", LIMIT), **kwargs)
    return caught.value.code


def test_the_type_comes_from_the_bytes_not_the_name() -> None:
    checked = check_document(png(), "holiday.pdf", max_bytes=LIMIT)
    assert (checked.kind, checked.content_type, checked.filename) == ("image", "image/png", "holiday.png")
    assert check_document(pdf(), "scan.png", max_bytes=LIMIT).content_type == "application/pdf"
    assert check_document(webp(), "x", max_bytes=LIMIT).content_type == "image/webp"
    assert [sniff(b) for b in (png(), jpeg_with_gps(), webp(), pdf(), b"GIF89a...")] == [
        "png",
        "jpeg",
        "webp",
        "pdf",
        None,
    ]


def test_an_image_is_stored_without_its_metadata() -> None:
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as img:
        assert img.getexif().get(0x8825) is not None  # the GPS block is really there
    checked = check_document(original, "me.jpg", max_bytes=LIMIT)
    with Image.open(io.BytesIO(checked.data)) as img:
        assert img.format == "JPEG" and img.size == (64, 48)
        assert len(img.getexif()) == 0
        assert "comment" not in img.info and "exif" not in img.info
    assert b"SpyCam" not in checked.data and b"secret comment" not in checked.data


@pytest.mark.parametrize("tail", [zip_bytes(), b"<html><script>alert(1)</script></html>"])
def test_a_polyglot_loses_its_tail(tail: bytes) -> None:
    """A JPEG with a zip (GIFAR-like) or HTML appended: what is kept is a
    re-encoded image that ends where JPEG ends."""
    checked = check_document(jpeg_with_gps() + tail, "cat.jpg", max_bytes=LIMIT)
    assert tail not in checked.data and b"PK\x03\x04" not in checked.data and b"<script" not in checked.data
    assert checked.data.endswith(b"\xff\xd9")
    with Image.open(io.BytesIO(checked.data)) as img:
        img.load()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (svg_with_script(), "unsupported_type"),
        (zip_bytes(), "unsupported_type"),
        (b"GIF89a" + b"\0" * 20, "unsupported_type"),
        (b"<html><script>alert(1)</script>", "unsupported_type"),
        (EICAR, "unsupported_type"),
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "unreadable"),
        (b"%PDF-1.7\n garbage", "unreadable"),
        (png_bomb(), "image_too_large"),
        (pdf(javascript="app.alert('x')"), "pdf_script"),
        (pdf(open_action=True), "pdf_script"),
        (pdf(encrypt=True), "pdf_encrypted"),
    ],
    ids=["svg", "zip", "gif", "html", "eicar", "empty", "bad-png", "bad-pdf", "bomb", "pdf-js", "pdf-open", "pdf-enc"],
)
def test_refusals_have_stable_codes(data: bytes, code: str) -> None:
    assert refusal(data) == code
    assert code in REFUSAL_CODES


def test_size_and_pixel_limits() -> None:
    assert refusal(png(), max_bytes=100) == "too_large"
    assert refusal(png((100, 100)), max_pixels=9_999) == "image_too_large"
    assert check_document(png((100, 100)), "a.png", max_bytes=LIMIT, max_pixels=10_000).kind == "image"
    too_large = DocumentRefused("too_large")
    assert (too_large.status, DocumentRefused("pdf_script").status) == (413, 422)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini", "win.png"),
        ("ekran görüntüsü (2).PNG", "ekran görüntüsü (2).png"),
        ("<script>alert(1)</script>.png", "script.png"),
        ("\x00\x1b[31mred\u202e.png", "31mred.png"),
        ("...", "document.png"),
        ("", "document.png"),
        ("a" * 500 + ".png", "a" * 116 + ".png"),
    ],
)
def test_file_names_are_plain_base_names(name: str, expected: str) -> None:
    assert safe_filename(name, ".png") == expected
