"""The run's report: JSON for machines, Markdown for people, under chaos/reports/ (ignored by git)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.faults import Injected, Profile
from chaos.invariants import Result

REPORTS = Path(__file__).resolve().parent / "reports"


@dataclass
class ChaosReport:
    profile: Profile
    started_at: str
    events: dict[str, Any] = field(default_factory=dict)  # sends by kind, outcomes, accepted
    faults: list[Injected] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds
    processes: dict[str, int] = field(default_factory=dict)  # role process → times started
    receiver: dict[str, int] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the run's dates: license terms and the usage window, all relative to when it ran
    dates: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile.__dict__,
            "started_at": self.started_at,
            "dates": self.dates,
            "passed": self.passed,
            "events": self.events,
            "faults": [f.as_dict() for f in self.faults],
            "timings_seconds": self.timings,
            "processes_started": self.processes,
            "webhook_receiver": self.receiver,
            "invariants": [r.as_dict() for r in self.results],
            "notes": self.notes,
            "load_average": os.getloadavg(),
        }

    def markdown(self) -> str:
        kinds: dict[str, int] = {}
        for fault in self.faults:
            kinds[fault.kind] = kinds.get(fault.kind, 0) + 1
        lines = [
            f"# Chaos run `{self.profile.name}`: {'PASSED' if self.passed else 'FAILED'}",
            "",
            f"Started {self.started_at}; {self.profile.accounts} accounts, seed {self.profile.seed}.",
            "",
            "Dates used: " + (", ".join(f"{k} {v}" for k, v in self.dates.items()) or "none recorded") + ".",
            "",
            "## Events",
            "",
            f"- sent: {sum(self.events.get('sent', {}).values()):,} ({self.events.get('sent', {})})",
            f"- server outcomes: {self.events.get('outcomes', {})}",
            f"- accepted (counted once): {self.events.get('accepted', 0):,}; "
            f"unknown-account events: {self.events.get('unknown_account', 0)}",
            "",
            "## Timings",
            "",
            *[f"- {name}: {seconds:.1f} s" for name, seconds in self.timings.items()],
            "",
            "(`converge_after_faults`: from the end of the load and of the last fault until every"
            " consumer group is at lag 0, every outbox empty and every delivery settled.)",
            "",
            f"## Faults ({len(self.faults)}: {kinds})",
            "",
            "| at (s) | until (s) | kind | target | detail |",
            "|---:|---:|---|---|---|",
            *[
                f"| {f.started:.1f} | {f.ended:.1f} | {f.kind} | {f.target} | {f.detail} |"
                for f in self.faults
            ],
            "",
            f"Webhook receiver: {self.receiver}.",
            "",
            f"Role processes started (1 + SIGKILLs survived): {self.processes}.",
            "",
            "## Invariants",
            "",
            "| invariant | result | detail |",
            "|---|---|---|",
            *[f"| {r.name} | {'pass' if r.passed else '**FAIL**'} | {r.detail} |" for r in self.results],
            "",
        ]
        for result in self.results:
            if result.problems:
                lines += [f"### {result.name}", "", *[f"- {p}" for p in result.problems[:20]], ""]
            if result.explained:
                lines += [f"### {result.name}: allowed", "", *[f"- {e}" for e in result.explained[:20]], ""]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path = REPORTS) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{self.profile.name}-latest"
        json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
        json_path.write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n")
        md_path.write_text(self.markdown())
        return json_path, md_path
