"""`tangible-devstack run|fetch-kafka`: local real infrastructure for Tangible."""

from __future__ import annotations

import argparse

from tangible_devstack.kafka import ensure_kafka_jars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tangible-devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the whole system on embedded defaults (make run)")
    commands.add_parser("fetch-kafka", help="fetch the Apache Kafka jars with Maven into the cache")
    args = parser.parse_args(argv)
    if args.command == "fetch-kafka":
        print(ensure_kafka_jars())
        return 0
    from tangible_devstack.stack import run

    return run()


if __name__ == "__main__":
    raise SystemExit(main())
