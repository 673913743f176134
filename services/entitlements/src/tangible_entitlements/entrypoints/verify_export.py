"""Offline check of a history export: `python -m tangible_entitlements.entrypoints.verify_export FILE`.

For auditors without access to the service: recomputes every record's hash and link (and,
for a complete JSON export, that nothing is missing up to its head). An export rewritten
and re-hashed end to end is only caught against an independent anchor: pass `--head
SEQ:HASH` as the service reported it (`GET /v1/accounts/{id}/history/verify` checks the
stored chain; `POST` on the same path checks an export against it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from tangible_entitlements.domain import audit
from tangible_entitlements.service_layer import history


def _head(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise argparse.ArgumentTypeError("expected SEQ:HASH (a number, a colon, 64 hex digits)")
    return int(seq), digest


def main(argv: Sequence[str] | None = None) -> int:
    """0 when the export is intact, 1 when not (the verdict is printed as JSON), 2 on bad input."""
    parser = argparse.ArgumentParser(prog="verify_export", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a JSON or CSV export (CSV when the name ends in .csv)")
    parser.add_argument("--csv", action="store_true", help="read the file as CSV whatever its name")
    parser.add_argument(
        "--head", type=_head, help="SEQ:HASH a complete export must end at (an independent anchor)"
    )
    args = parser.parse_args(argv)
    try:
        export = history.parse(args.file.read_bytes(), is_csv=args.csv or args.file.suffix == ".csv")
    except (OSError, history.UnreadableExport) as error:
        print(f"verify_export: {error}", file=sys.stderr)
        return 2
    head = args.head or (export.head if export.complete else None)
    verdict = audit.verify(export.records, complete=export.complete, head=head)
    print(json.dumps(asdict(verdict)))
    return 0 if verdict.intact else 1


if __name__ == "__main__":
    sys.exit(main())
