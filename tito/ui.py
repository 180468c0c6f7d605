"""Terminal output with rich: tables of grades and module states, and messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from tito.report import GradeReport

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def grade_table(report: GradeReport, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("test cell")
    table.add_column("points", justify="right")
    table.add_column("result")
    table.add_column("why it failed")
    for cell in report.cells:
        mark = "[green]✅ pass[/]" if cell.passed else "[red]❌ fail[/]"
        table.add_row(cell.grade_id, f"{cell.score:g}/{cell.max_score:g}", mark, cell.reason)
    colour = "green" if report.full_marks else "red"
    table.add_section()
    table.add_row("[bold]total[/]", f"[bold {colour}]{report.score:g}/{report.max_score:g}[/]", "", "")
    return table


def show_flags(report: GradeReport) -> None:
    for flag in report.flags:
        console.print(f"[yellow]⚠ {flag.kind.value}:[/] {flag.message}")


def batch_table(reports: list[GradeReport], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("student")
    table.add_column("score", justify="right")
    table.add_column("failed cells: why")
    table.add_column("flags")
    for report in reports:
        if not report.graded:
            failed = f"(not graded) {report.reason}"
        else:
            failed = "\n".join(f"{c.grade_id}: {c.reason}" for c in report.cells if not c.passed) or "—"
        flags = "\n".join(f"{flag.kind.value}: {flag.message}" for flag in report.flags) or "—"
        table.add_row(report.student, f"{report.score:g}/{report.max_score:g}", failed, flags)
    return table


def error(message: str, hint: str = "") -> None:
    errors.print(f"[bold red]Error:[/] {message}")
    if hint:
        errors.print(f"[cyan]What to do:[/] {hint}")


def warning(message: str) -> None:
    errors.print(f"[bold yellow]Warning:[/] {message}")
