"""A web chat link for an authenticated demo customer.

``python -m bot.demo_link [--username ayse_k] [--hours 12]`` prints the chat
page's address with a signed customer token in the fragment, made with
``CUSTOMER_TOKEN_SECRET`` the way the platform would make it for a logged-in
customer: the bot then skips the age question and the username.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from actions.core.customer_token import mint_customer_token


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--username", default="demo_customer")
    parser.add_argument("--hours", type=float, default=12)
    parser.add_argument("--base-url", default=f"http://127.0.0.1:{os.environ.get('HANDOFF_PORT', '8080')}")
    args = parser.parse_args(argv)
    secret = os.environ.get("CUSTOMER_TOKEN_SECRET")
    if not secret:
        print("CUSTOMER_TOKEN_SECRET is not set (make generates it in .env.local)", file=sys.stderr)
        return 2
    token = mint_customer_token(args.username, secret, ttl_seconds=int(args.hours * 3600))
    print(f"{args.base_url.rstrip('/')}/chat/#token={token}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
