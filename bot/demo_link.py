"""A web chat (or customer panel) link for an authenticated demo customer.

``python -m bot.demo_link [--username ayse_k] [--hours 12] [--panel]`` prints
the chat page's address (``--panel``: the customer panel's, /panel/) (the handoff service, ``HANDOFF_URL`` by default) with a
signed customer token in the fragment, made with ``CUSTOMER_TOKEN_SECRET``
the way the platform would make it for a logged-in customer: the bot then
skips the age question and the username. Both come from the action server's
settings (actions/core/settings.py), whose token the link must carry.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from actions.core.customer_token import mint_customer_token
from actions.core.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings.from_env()  # this process's one read of the environment
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--username", default="demo_customer")
    parser.add_argument("--hours", type=float, default=12)
    parser.add_argument("--base-url", default=settings.handoff_url)
    parser.add_argument("--panel", action="store_true", help="the customer panel's link instead of the chat's")
    args = parser.parse_args(argv)
    if not settings.customer_token_secret:
        print("CUSTOMER_TOKEN_SECRET is not set (make generates it in .env.local)", file=sys.stderr)
        return 2
    token = mint_customer_token(args.username, settings.customer_token_secret, ttl_seconds=int(args.hours * 3600))
    page = "panel" if args.panel else "chat"
    print(f"{args.base_url.rstrip('/')}/{page}/#token={token}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
