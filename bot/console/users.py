"""Create console accounts: `python -m bot.console.users add NAME --role supervisor`.

The password is read from CONSOLE_PASSWORD or asked on the terminal (never on the command line).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from bot.console.auth import ROLES, create_user
from bot.db import session_factory
from bot.support.db import make_engine, upgrade_schema


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create a console account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="agent")
    args = parser.parse_args(argv)
    password = os.environ.get("CONSOLE_PASSWORD") or getpass.getpass(f"Password for {args.username}: ")
    upgrade_schema()
    try:
        create_user(session_factory(make_engine()), args.username, password, args.role)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.role} {args.username} created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
