"""The `moss-annotate` command line."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Event-preserving audio annotation pipeline.")
console = Console(stderr=True)


LOG_LEVELS = ("debug", "info", "warning", "error")


def _setup_logging(level: str) -> None:
    if level.lower() not in LOG_LEVELS:
        console.print(f"[red]--log-level: {level!r} is not one of {', '.join(LOG_LEVELS)}")
        raise typer.Exit(2)
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(message)s",
        # Tracebacks only at debug level: bad data is reported in one line (and in the errors table).
        handlers=[RichHandler(console=console, show_path=False, rich_tracebacks=False)],
    )


def _load(config: Path, input: Optional[str], output: Optional[str]):
    from pipeline.config import ConfigError, load_config

    overrides = {}
    if input:
        overrides["input.path"] = str(Path(input).resolve()) if "://" not in input else input
    if output:
        overrides["output.path"] = str(Path(output).resolve()) if "://" not in output else output
    try:
        return load_config(config, overrides)
    except ConfigError as e:
        console.print(f"[red]{e}")
        raise typer.Exit(2) from None


@app.command()
def validate(config: Path = typer.Argument(..., help="pipeline.yaml")) -> None:
    """Check a config (keys, types, paths, annotator names and params) without running anything."""
    cfg = _load(config, None, None)
    from pipeline.manifest import ManifestError, read_inputs

    try:
        n = len(read_inputs(cfg.input.path, cfg.input.extensions))
    except ManifestError as e:
        console.print(f"[red]{e}")
        raise typer.Exit(2) from None
    console.print(f"[green]config OK[/]: {n} input files, branches: {', '.join(cfg.enabled_branches())}")


@app.command()
def run(
    config: Path = typer.Argument(..., help="pipeline.yaml"),
    input: Optional[str] = typer.Option(None, "--input", "-i", help="override input.path"),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="override output.path"),
    overwrite: bool = typer.Option(False, help="replace an output folder made with another config"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the plan (what would be redone per shard, and why) and stop"),
    log_level: str = typer.Option("info", "--log-level", help="debug (with tracebacks), info, warning or error"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="the same as --log-level debug"),
) -> None:
    """Annotate every input file. Finished shards are skipped; after a config change only the stages whose
    fingerprint changed (and those downstream) are redone, per shard."""
    _setup_logging("debug" if verbose else log_level)
    cfg = _load(config, input, output)
    from pipeline.manifest import ManifestError
    from pipeline.progress import RichProgress
    from pipeline.ray_runtime import PlacementError
    from pipeline.runner import Runner
    from pipeline.writer import OutputConflictError

    try:
        runner = Runner(cfg, overwrite=overwrite, progress=RichProgress(console))
        stats = runner.run(dry_run=dry_run)
    except (ManifestError, OutputConflictError) as e:
        console.print(f"[red]{e}")
        raise typer.Exit(2) from None
    except PlacementError as e:
        console.print(f"[red]{e}")
        raise typer.Exit(1) from None
    if dry_run:
        console.print(f"plan for {cfg.output.path} (nothing was run):")
        for line in runner.plan_lines or ["up to date: nothing to do"]:
            console.print(f"  {line}")
        return
    _print_summary(stats, Path(cfg.output.path))


def _print_summary(stats, out: Path) -> None:
    t = Table(title=f"moss-annotate: {out}", show_header=False)
    rec = stats.recordings
    t.add_row("files", f"{sum(rec.values())} processed: ok {rec.get('ok', 0)}, error {rec.get('error', 0)}, empty {rec.get('empty', 0)}")
    t.add_row("shards", f"{stats.shards_written} written, {stats.shards_skipped} already done")
    t.add_row("audio", f"{stats.audio_s / 3600:.3f} h ({stats.audio_s:.1f} s)")
    t.add_row("segments", f"{stats.segments}  " + "  ".join(f"{b}: {n}" for b, n in sorted(stats.branch_items.items())))
    t.add_row("errors", str(stats.errors))
    t.add_row("wall time", f"{stats.wall_s:.1f} s")
    rtf = stats.realtime_factor
    t.add_row("speed", f"{rtf:.2f} s of audio per wall second" if rtf else "-")
    console.print(t)


@app.command("list-annotators")
def list_annotators() -> None:
    """Annotators and segmenters available by key (built-ins and installed plug-ins)."""
    from annotators.registry import ANNOTATORS
    from segmenters.registry import SEGMENTERS

    t = Table("kind", "key", "branch", "class", "params")
    for key, cls in ANNOTATORS.items():
        t.add_row("annotator", key, cls.branch, f"{cls.__module__}.{cls.__name__}", ", ".join(cls.Params.model_fields))
    for key, cls in SEGMENTERS.items():
        t.add_row("segmenter", key, "-", f"{cls.__module__}.{cls.__name__}", ", ".join(cls.Params.model_fields))
    Console().print(t)


@app.command()
def report(output: Path = typer.Argument(..., help="an output folder of `run`")) -> None:
    """Summarise a finished run: files by status, errors by stage, rows per table."""
    from pipeline.summary import summarize

    try:
        summary = summarize(output)
    except FileNotFoundError as e:
        console.print(f"[red]{e}")
        raise typer.Exit(2) from None
    Console().print_json(json.dumps(summary))


@app.command()
def evaluate(
    output: Path = typer.Argument(..., help="an output folder of `run`"),
    truth: Path = typer.Option(..., "--truth", help="truth.jsonl in the corpus format"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Score segmentation, routing and annotations of a run against ground truth."""
    from pipeline.evaluate import evaluate_output, render_table

    result = evaluate_output(output, truth)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        Console().print(render_table(result))


if __name__ == "__main__":
    app()
