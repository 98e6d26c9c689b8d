"""``inkread serve`` and ``inkread clients``: argument parsers and runners.

Kept free of heavy imports (FastAPI, uvicorn, the models) so ``inkread --help`` stays fast; each
runner imports what it needs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

from ..cli import positive_float, positive_int
from ..cli.parser import whole_number
from ..options import MAX_PAGES_DEFAULT

__all__ = ["add_serve_arguments", "run_serve", "add_clients_arguments", "run_clients", "SERVE_HELP", "CLIENTS_HELP"]

SERVE_HELP = "run the OCR web service (HTTP API, Aspose-compatible API and web page)"
CLIENTS_HELP = "manage the service's API clients (add, list, revoke)"

_DB_HELP = "database: an SQLite file or a postgresql:// URL (default: $INKREAD_DB or ~/.local/share/inkread/service.db)"


def _default_workers() -> int:
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    parser.add_argument("--db", default=None, help=_DB_HELP)
    parser.add_argument(
        "--workers",
        type=whole_number(0),
        default=_default_workers(),
        metavar="N",
        help="inputs recognised at once (default: half the CPU cores, 1..4); 2 or more run in "
        "that many worker processes, each with its own models and cores / N threads; "
        "0: only accept tasks, for a replica whose work other replicas do",
    )
    parser.add_argument(
        "--max-upload-mb", type=positive_float, default=20.0, metavar="MB", help="largest accepted file (default: 20)"
    )
    parser.add_argument(
        "--max-pages",
        type=positive_int,
        default=MAX_PAGES_DEFAULT,
        metavar="N",
        help="pages read per request or task; more are refused with 413 (default: 500)",
    )
    parser.add_argument(
        "--task-seconds",
        type=positive_float,
        default=1800.0,
        metavar="S",
        help="a task's time budget: past it, it stops before its next page and fails with "
        "OcrTimeoutError (default: 1800)",
    )
    parser.add_argument(
        "--header-timeout",
        type=positive_float,
        default=10.0,
        metavar="S",
        help="drop a connection whose request headers have not arrived in S seconds (default: 10)",
    )
    parser.add_argument(
        "--body-timeout",
        type=positive_float,
        default=30.0,
        metavar="S",
        help="drop a connection whose request body stops arriving for S seconds (default: 30)",
    )
    parser.add_argument(
        "--max-queue",
        type=positive_int,
        default=1000,
        metavar="N",
        help="queued tasks beyond which new ones get 503 (default: 1000)",
    )
    parser.add_argument(
        "--max-queue-per-client",
        type=positive_int,
        default=200,
        metavar="N",
        help="queued tasks per client beyond which new ones get 429 (default: 200)",
    )
    parser.add_argument(
        "--result-ttl",
        type=positive_float,
        default=24 * 3600,
        metavar="SECONDS",
        help="how long finished results are kept (default: 86400 = 24 h)",
    )
    parser.add_argument(
        "--token-ttl", type=positive_int, default=3600, metavar="SECONDS", help="access token lifetime (default: 3600)"
    )
    parser.add_argument(
        "--lease",
        type=positive_float,
        default=30.0,
        metavar="SECONDS",
        help="a running task whose server stops renewing it for this long is run again elsewhere (default: 30)",
    )
    parser.add_argument(
        "--model",
        dest="models",
        action="append",
        type=_named_model,
        default=[],
        metavar="NAME=FILE",
        help="a handwriting model (one 'inkread train' exported) that requests choose with model=NAME "
        "on the native routes (the Aspose routes read with the shipped one); repeatable",
    )
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))


def _named_model(text: str) -> tuple[str, str]:
    """argparse type of ``--model NAME=FILE``: a name of letters, digits, '.', '_' or '-', and a file."""
    import re

    name, _, path = text.partition("=")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name) or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=FILE (NAME: letters, digits, . _ -), got {text!r}")
    return name, path


def run_serve(args: argparse.Namespace) -> int:
    from ..backends import check_handwriting_model
    from ..failure import CliError
    from .app import ServiceSettings, serve

    models: dict[str, str] = {}
    for name, path in args.models:
        if name in models:
            raise CliError(f"--model {name}= is given twice", hint="give each model its own name")
        models[name] = check_handwriting_model(path)  # refused before serving: one line, exit 2

    settings = ServiceSettings(
        db=args.db,
        workers=args.workers,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_pages=args.max_pages,
        task_seconds=args.task_seconds,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        max_queue=args.max_queue,
        max_queue_per_client=args.max_queue_per_client,
        result_ttl=args.result_ttl,
        token_ttl=args.token_ttl,
        lease_seconds=args.lease,
        models=models,
    )
    return serve(settings, host=args.host, port=args.port, log_level=args.log_level)


def add_clients_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=_DB_HELP)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    parser.add_argument("--db", default=None, help=_DB_HELP)
    parser.add_argument("--json", action="store_true", default=False, help="print JSON")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", parents=[common], help="register a client; prints its id and secret once")
    add.add_argument("name", help="a name for people (e.g. the app or person using it)")
    sub.add_parser("list", parents=[common], help="list clients (never their secrets)")
    revoke = sub.add_parser("revoke", parents=[common], help="revoke a client: its tokens stop working at once")
    revoke.add_argument("id", help="the client id")


def add_keys_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=_DB_HELP)
    parser.add_argument("--db", default=None, help=_DB_HELP)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser(
        "rotate", parents=[common], help="replace the token signing key: every token issued before is refused at once"
    )


def run_keys(args: argparse.Namespace) -> int:
    from .auth import rotate_signing_key
    from .store import default_db, open_store

    store = open_store(args.db or default_db())
    try:
        rotate_signing_key(store)  # the only action
    finally:
        store.close()
    sys.stdout.write(
        "the token signing key is replaced: tokens issued before now are refused by every replica;\n"
        "clients get new ones from POST /connect/token with their id and secret\n"
    )
    return 0


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def run_clients(args: argparse.Namespace) -> int:
    from ..cli import CliError
    from .auth import create_client
    from .store import default_db, open_store

    store = open_store(args.db or default_db())
    try:
        if args.action == "add":
            name = args.name.strip()
            if not name:
                raise CliError("the client name is empty")
            record, secret = create_client(store, name)
            if args.json:
                _print_json({"client_id": record.id, "client_secret": secret, "name": record.name})
            else:
                sys.stdout.write(
                    f"client id:     {record.id}\n"
                    f"client secret: {secret}\n"
                    "The secret is shown only now: keep it safe. Trade both for a token at POST /connect/token.\n"
                )
            return 0
        if args.action == "list":
            clients = store.list_clients()
            if args.json:
                _print_json([c.public() for c in clients])
                return 0
            rows = [("ID", "NAME", "CREATED", "STATUS")] + [
                (c.id, c.name, _when(c.created_at), f"revoked {_when(c.revoked_at)}" if c.revoked else "active")
                for c in clients
            ]
            widths = [max(len(r[i]) for r in rows) for i in range(3)]
            sys.stdout.write(
                "".join("  ".join(cell.ljust(w) for cell, w in zip(r[:3], widths)) + "  " + r[3] + "\n" for r in rows)
            )
            return 0
        # revoke
        if not store.revoke_client(args.id):
            raise CliError(f"no client with id {args.id!r}", hint="see 'inkread clients list'")
        if args.json:
            _print_json({"client_id": args.id, "revoked": True})
        else:
            sys.stdout.write(f"revoked {args.id}\n")
        return 0
    finally:
        store.close()


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")
