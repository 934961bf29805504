"""The signed token an authenticated channel puts in message metadata.

What the token proves is defined once, in ``support_rules.customer_token``
(the handoff service's customer panel reads the same token); this module
only finds it in a message's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from support_rules.customer_token import VerifiedCustomer, mint_customer_token, verify_customer_token

__all__ = ["VerifiedCustomer", "verify_customer_token", "token_from_metadata", "mint_customer_token", "METADATA_KEY"]

METADATA_KEY = "customer_token"


def token_from_metadata(metadata: Mapping[str, Any] | None) -> str | None:
    if not metadata:
        return None
    token = metadata.get(METADATA_KEY)
    return token if isinstance(token, str) and token else None
