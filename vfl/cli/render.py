"""Rich rendering shared by commands: result tables and progress bars.

Results (tables, ids, JSON) go to stdout, so ``vfl status > out.txt`` captures
them; progress, warnings and logs go to stderr. When a command writes its JSON
report to stdout (``--json -``), its table moves to stderr
(:func:`results_console`), so stdout holds the JSON alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vfl.progress import PlainProgress, ProgressCallback, ProgressEvent
from vfl.txn.records import PartyStatus

__all__ = [
    "console",
    "evaluation_table",
    "parties_table",
    "progress_bars",
    "results_console",
    "results_table",
    "stdout",
    "target_line",
]

console = Console(stderr=True)
"""Progress, warnings and notes: stderr."""
stdout = Console()
"""Results (tables a script may capture): stdout."""


def results_console(json_to_stdout: bool) -> Console:
    """Where a command's result table goes: stdout, unless its JSON report goes there."""
    return console if json_to_stdout else stdout


def _pct(value: float | None) -> str:
    return "-" if value is None or value != value else f"{100 * value:.2f}"


def _classes(report: dict[str, Any]) -> str:
    """The forgotten classes by name, with the index where the name is not the index."""
    if report.get("scope") == "samples":
        return f"{report.get('samples_forgotten', '?')} samples"
    names = report.get("class_names") or []
    out = []
    for c in report["classes_forgotten"]:
        name = names[c] if c < len(names) else str(c)
        out.append(name if name == str(c) else f"{name} ({c})")
    return ", ".join(out)


def results_table(report: dict[str, Any]) -> Table:
    """Original / unlearned / retrained side by side, percentages and seconds."""
    table = Table(
        title=f"{report['dataset']} · {report['parties']} passive parties · "
        f"forget {_classes(report)} · method {report['method']}"
        + (f" · defenses {', '.join(report['defenses'])}" if report.get("defenses") else "")
    )
    for col in ("model", "test acc %", "retained acc %", "forgotten acc %", "MIA %", "seconds"):
        table.add_column(col, justify="left" if col == "model" else "right")
    rows = [("original", "original"), (f"unlearned ({report['method']})", "unlearned")]
    rows += [("retrained", "retrained")] if "retrained" in report else []
    for label, key in rows:
        r = report[key]
        seconds = r.get("seconds", report.get("train_seconds") if key == "original" else None)
        table.add_row(
            label,
            _pct(r.get("test_acc")),
            _pct(r["retain_acc"]),
            _pct(r["forget_acc"]),
            _pct(r["mia"]),
            "-" if seconds is None else f"{seconds:.3f}",
        )
    if "speedup" in report:
        table.caption = f"speed-up vs retraining: {report['speedup']:.1f}x"
    return table


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def evaluation_table(report: dict[str, Any]) -> Table:
    """``--eval full``: one row per metric, one column per model (it fits 80 columns)."""
    ev = report["evaluation"]
    phases = [p for p in ("original", "unlearned", "retrained") if p in ev]
    table = Table(
        title=f"full evaluation · U-LiRA: {ev['shadows']} shadows, "
        f"{ev['candidates']['members']} forget-train vs {ev['candidates']['non_members']} "
        "held-out samples"
    )
    table.add_column("metric")
    for phase in phases:
        table.add_column(phase, justify="right")

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> None:
        table.add_row(label, *(cell(ev[phase]) for phase in phases))

    row("ToW (1 = retrained)", lambda r: _num(r.get("tow")))
    row("ToW-MIA", lambda r: _num(r.get("tow_mia")))
    row("U-LiRA AUC (0.5 = guess)", lambda r: _num(r["ulira"]["auc"]))
    row("U-LiRA AUC, centred", lambda r: _num(r["ulira_centred"]["auc"]))
    row("U-LiRA TPR @ 1 % FPR, %", lambda r: _pct(r["ulira"]["tpr_at_1fpr"]))
    row("U-LiRA TPR @ 5 % FPR, %", lambda r: _pct(r["ulira"]["tpr_at_5fpr"]))
    row(
        f"relearn steps to {100 * ev['relearn_alpha']:.0f} %",
        lambda r: f"{r['relearn']['steps']}{'' if r['relearn']['reached'] else '+'}",
    )
    for layer in ev[phases[0]]["depth"]:
        row(f"probe AUC: {layer}", lambda r, layer=layer: _num(r["depth"][layer]))
    table.caption = (
        f"relearn: fine-tuning steps on the forget set until its accuracy is back to "
        f"{100 * ev['relearn_alpha']:.0f} % of the original's (cap {ev['relearn_max_steps']}, "
        "'+' = not reached); probe: linear probe for the forgotten classes (0.5 = unreadable)"
    )
    return table


def target_line(result: dict[str, Any]) -> str | None:
    """Whether an unlearning result reached its own target, as a Rich line (red when not).

    None for a result without a target (training, or a record from before targets).
    """
    if "target_reached" not in result:
        return None
    if result["target_reached"]:
        return "[green]target reached[/green]"
    return (
        f"[bold red]target missed: the forgotten classes are still "
        f"{_pct(result['shortfall'])} points above the target on the forget samples "
        "the request may see[/bold red]"
    )


def parties_table(parties: Sequence[PartyStatus], title: str) -> Table:
    """Each party's reachability, model version, digest and error (``status``, ``repair``)."""
    table = Table(title=title)
    for col in ("party", "reachable", "version", "digest", "error"):
        table.add_column(col)
    for p in parties:
        version = f"v{p.version} IN DOUBT" if p.in_doubt else str(p.version)
        table.add_row(p.party_id, "yes" if p.reachable else "NO", version, p.digest[:16], p.error)
    return table


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # the stderr of the moment (tests swap it)


@contextmanager
def progress_bars(enabled: bool = True) -> Iterator[ProgressCallback]:
    """A :data:`ProgressCallback` that draws one bar per phase on stderr.

    When stderr is not a terminal, plain lines instead (:class:`PlainProgress`).
    """
    if enabled and not console.is_terminal:
        plain = PlainProgress(_stderr_line)
        try:
            yield plain
        finally:
            plain.close()
        return
    bars = Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def on_event(event: ProgressEvent) -> None:
        if event.phase not in tasks:
            tasks[event.phase] = bars.add_task(event.phase, total=event.total, info="")
        info = " ".join(f"{k}={v:.3f}" for k, v in event.metrics.items())
        fields = {"info": info} if info else {}
        bars.update(tasks[event.phase], completed=event.step, total=event.total, **fields)

    with bars:
        yield on_event
