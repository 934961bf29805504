"""Why a document was not taken: one stable ``code`` per reason.

The pages translate a refusal by its code (``handoff/webchat/documents_i18n.js``,
loaded by the web chat and the panel); the English message is for API
clients and logs.
"""

from __future__ import annotations

from typing import Final

from handoff.errors import ApiError

__all__ = ["DocumentRefused", "REFUSAL_CODES", "TOO_LARGE"]

TOO_LARGE: Final = "too_large"
# code -> (HTTP status, message for API clients)
REFUSAL_CODES: Final[dict[str, tuple[int, str]]] = {
    "empty": (422, "the file is empty"),
    TOO_LARGE: (413, "the file is larger than the limit"),
    "unsupported_type": (422, "only JPEG, PNG and WebP images and PDF documents are accepted"),
    "unreadable": (422, "the file could not be read as the image or PDF it claims to be"),
    "image_too_large": (422, "the image has too many pixels"),
    "pdf_encrypted": (422, "encrypted PDF documents are not accepted"),
    "pdf_script": (422, "PDF documents with scripts or automatic actions are not accepted"),
    "infected": (422, "the virus scanner found malware in the file"),
    "no_file": (422, "send the file as the multipart form field 'file'"),
}


class DocumentRefused(ApiError):
    """A document that is not stored; ``code`` is one of ``REFUSAL_CODES``."""

    status, code = 422, "unsupported_type"

    def __init__(self, code: str, message: str | None = None) -> None:
        status, default = REFUSAL_CODES[code]
        super().__init__(message or default, code=code)
        self.status = status
