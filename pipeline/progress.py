"""A rich progress bar as a ProgressHook."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from schemas.recordings import RecordingRow


class RichProgress:
    def __init__(self, console: Console):
        self.progress = Progress(
            TextColumn("[bold]annotating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files  ok {task.fields[ok]}  error {task.fields[error]}  empty {task.fields[empty]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = None
        self.counts = {"ok": 0, "error": 0, "empty": 0}

    def start(self, total: int, already_done: int) -> None:
        if already_done:
            self.progress.console.print(f"{already_done} files already done in finished shards: skipped")
        self.progress.start()
        self.task = self.progress.add_task("run", total=total, **self.counts)

    def recording_done(self, recording: RecordingRow) -> None:
        self.counts[recording.status] = self.counts.get(recording.status, 0) + 1
        self.progress.update(self.task, advance=1, **self.counts)

    def stop(self) -> None:
        self.progress.stop()
