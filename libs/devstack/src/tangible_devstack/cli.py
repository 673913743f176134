"""`tangible-devstack run|fetch-kafka|elements-demo`: local real infrastructure for Tangible."""

from __future__ import annotations

import argparse

from tangible_devstack.kafka import ensure_kafka_jars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tangible-devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the whole system on embedded defaults (make run)")
    commands.add_parser("fetch-kafka", help="fetch the Apache Kafka jars with Maven into the cache")
    demo = commands.add_parser(
        "elements-demo", help="print the URL of the web components' demo page for `make run`'s system"
    )
    demo.add_argument("--account", required=True, help="the account the page shows")
    demo.add_argument("--tenant", default="demo", help="its tenant (default: make run's 'demo')")
    demo.add_argument("--user", help="a user: their inbox view and preferences")
    demo.add_argument("--locale", help="en or de")
    args = parser.parse_args(argv)
    if args.command == "elements-demo":
        from tangible_devstack.elements import local_demo_url

        print(local_demo_url(args.account, tenant=args.tenant, user=args.user, locale=args.locale))
        return 0
    if args.command == "fetch-kafka":
        print(ensure_kafka_jars())
        return 0
    from tangible_devstack.stack import run

    return run()


if __name__ == "__main__":
    raise SystemExit(main())
