"""Documents and screenshots customers attach: content checks
(``content``), virus scanning (``scanner``), where the bytes live
(``storage``), the use cases (``service``)."""

from handoff.documents.refusals import DocumentRefused

__all__ = ["DocumentRefused"]
