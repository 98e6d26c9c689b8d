"""Subcommands (``inkread languages``, ``eval``, ``serve``, ``clients``, ``keys``): a :class:`Command`
registry; the heavy ones are imported only when run."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .codes import EXIT_OK, PROG


@dataclass(frozen=True)
class Command:
    """A subcommand: ``inkread NAME ...``."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None

    def parser(self) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(
            prog=f"{PROG} {self.name}",
            description=self.description or self.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        self.add_arguments(parser)
        return parser


COMMANDS: dict[str, Command] = {}


def register_command(command: Command) -> Command:
    """Make ``inkread NAME`` run ``command`` (replacing any command of that name)."""
    COMMANDS[command.name] = command
    return command


def _languages_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", "-f", choices=("text", "json"), default="text", help="a table (default) or a JSON array"
    )


def _run_languages(args: argparse.Namespace) -> int:
    from ..backends import get_backend
    from ..backends.tesseract import installed_languages, package_for
    from ..exceptions import MissingDependencyError
    from ..languages import supported_languages

    try:
        installed = installed_languages()
    except MissingDependencyError:  # no tesseract binary: no pack is usable
        installed = frozenset()
    rows: list[dict[str, Any]] = [
        {
            "code": i.code,
            "name": i.name,
            "iso3": i.iso3,
            "script": i.script,
            "backend": get_backend(i.backends[0]).label,  # what --engine auto uses
            "backends": [get_backend(b).label for b in i.backends],
            "tesseract": i.tesseract,
            "modes": list(get_backend(i.backends[0]).capabilities.modes),
            "tesseract_installed": bool(i.tesseract) and i.tesseract in installed,  # its Tesseract pack
            "tesseract_package": package_for(i.tesseract) if i.tesseract else None,  # the Debian package
        }
        for i in supported_languages()
    ]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK

    def pack(r: dict[str, Any]) -> str:
        if r["tesseract_installed"]:
            return "installed"
        if r["tesseract_package"] is None:
            return "-"
        return f"apt-get install {r['tesseract_package']}"

    table = [("CODE", "NAME", "BACKEND", "MODES", "TESSERACT PACK")] + [
        (r["code"], r["name"], ",".join(r["backends"]), ", ".join(r["modes"]), pack(r)) for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4] for row in table]
    sys.stdout.write("\n".join(lines) + "\n")
    have = sum(r["tesseract_installed"] for r in rows)
    sys.stdout.write(
        f"\n{have} of {len(rows)} languages have their Tesseract pack installed; a language read by "
        "Tesseract alone needs its pack (the apt-get line beside it).\n"
    )
    return EXIT_OK


register_command(
    Command(
        name="languages",
        help="list the languages inkread reads",
        add_arguments=_languages_arguments,
        run=_run_languages,
        description="List the languages inkread reads: code (for --lang), name, backends (the one "
        "--engine auto uses first), modes, and whether its Tesseract pack is installed (else the "
        "Debian package to install).",
    )
)


def _lazy(module: str, name: str) -> Callable:
    """``inkread.<module>.<name>``, imported on first call: heavy subcommands cost --version nothing."""

    def call(*args):
        import importlib

        return getattr(importlib.import_module(f"inkread.{module}"), name)(*args)

    return call


register_command(
    Command(
        name="eval",
        help="score inkread on images with ground-truth .txt (CER/WER report)",
        add_arguments=_lazy("evaluate", "add_arguments"),
        run=_lazy("evaluate", "run"),
    )
)

register_command(
    Command(
        name="train",
        help="fine-tune the handwriting model on your corrected lines (pip install 'inkread[train]')",
        add_arguments=_lazy("training.command", "add_arguments"),
        run=_lazy("training.command", "run"),
    )
)

register_command(
    Command(
        name="serve",
        help="run the OCR web service (API, Aspose-compatible API, web page)",
        add_arguments=_lazy("service.commands", "add_serve_arguments"),
        run=_lazy("service.commands", "run_serve"),
        description="Run the OCR web service: token endpoint, /v1 API, Aspose OCR Cloud v5 API, web page at /.",
    )
)

register_command(
    Command(
        name="clients",
        help="manage the web service's API clients (add, list, revoke)",
        add_arguments=_lazy("service.commands", "add_clients_arguments"),
        run=_lazy("service.commands", "run_clients"),
        description="Manage the web service's API clients: 'add NAME' prints a new id and secret once; "
        "'list'; 'revoke ID'.",
    )
)

register_command(
    Command(
        name="keys",
        help="manage the web service's token signing key (rotate)",
        add_arguments=_lazy("service.commands", "add_keys_arguments"),
        run=_lazy("service.commands", "run_keys"),
        description="'rotate' replaces the key that signs access tokens: every token issued before is refused "
        "at once by every replica sharing the database; clients fetch new tokens with their secrets.",
    )
)
