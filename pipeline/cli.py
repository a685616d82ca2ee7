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
        n = len(read_inputs(cfg.input.path, cfg.input.extensions, cfg.input.storage_options))
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
        _print_dry_run(cfg, runner)
        return
    _print_summary(stats, cfg.output.path)


def _print_dry_run(cfg, runner) -> None:
    items = runner.inputs  # as the run listed them: a bucket is listed once
    size = cfg.output.shard_size
    console.print(f"dry run, nothing was changed: {cfg.output.path}", highlight=False)
    console.print(f"  inputs: {len(items)} from {cfg.input.path}", highlight=False)
    console.print(f"  shards: {-(-len(items) // size)} of up to {size} recordings", highlight=False)
    for name, branch in cfg.enabled_branches().items():
        model = branch.params.get("model") or branch.params.get("tagger") or "default"
        console.print(f"  branch {name}: {branch.annotator} ({model}), {branch.num_actors} actor(s), batch {branch.batch_size}",
                      highlight=False)
    console.print(f"  segmentation: {cfg.segmentation.segmenter}; merge: {cfg.merge.caption}, SFT tasks: "
                  f"{', '.join(cfg.merge.sft_tasks) or 'none'}", highlight=False)
    for line in runner.plan_lines or ["up to date: nothing to do"]:
        console.print(f"  plan: {line}", highlight=False)


def _print_summary(stats, out: str) -> None:
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
    """Annotators and segmenters available by key (built-ins and installed plug-ins), with their params."""
    from annotators.registry import ANNOTATORS
    from segmenters.registry import SEGMENTERS

    out = Console()
    kinds = [("annotator", k, c, c.branch) for k, c in ANNOTATORS.items()] + [("segmenter", k, c, None) for k, c in SEGMENTERS.items()]
    for kind, key, cls, branch in kinds:
        # One block per component: readable in an 80-column terminal, however many params it has.
        out.print(f"[bold]{key}[/]  {kind}" + (f" for {branch}" if branch else "") + f"  ({cls.__module__}.{cls.__name__})",
                  highlight=False)
        for name, field in cls.Params.model_fields.items():
            default = field.get_default(call_default_factory=True)
            out.print(f"    {name} = {default!r}", highlight=False, markup=False)
        out.print()


def _require_finished(output: str) -> None:
    from pipeline.storage import Store
    from pipeline.writer import done_shards

    if not done_shards(Store(output)):
        console.print(f"[red]{output} is not a finished output of `moss-annotate run` (no _done/)")
        raise typer.Exit(2)


def _version_callback(value: bool) -> None:
    if value:
        from pipeline.report import package_versions

        print(f"moss-annotate {package_versions()['moss-annotate'] or 'unknown'}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="print the version and exit"),
) -> None:
    """Event-preserving audio annotation pipeline."""


@app.command()
def review(
    output: str = typer.Argument(..., help="an output folder of `run`"),
    images: bool = typer.Option(True, help="draw each recording's waveform and spectrogram"),
) -> None:
    """Write a static review site to OUT/review/ (open index.html from disk: no server)."""
    from pipeline.review import build_review
    from pipeline.storage import is_remote

    if is_remote(output):
        console.print(f"[red]{output}: the review site is opened from disk; copy the output to a local folder first")
        raise typer.Exit(2)
    _require_finished(output)
    console.print(f"review site: {build_review(Path(output), images=images)}", highlight=False)


@app.command("export")
def export_cmd(
    output: str = typer.Argument(..., help="an output folder of `run` (or its URL)"),
    fmt: str = typer.Option(..., "--format", help="lhotse, webdataset, nemo or hf"),
    to: Path = typer.Option(..., "--to", help="folder to write the export into"),
    samples_per_shard: int = typer.Option(1000, help="webdataset: samples per tar shard"),
) -> None:
    """Write a finished output in a trainer's format: lhotse manifests, WebDataset shards, a NeMo manifest or a
    Hugging Face dataset. Audio comes from the original files, cut at the segment spans."""
    from pipeline.export import FORMATS, export

    if fmt not in FORMATS:
        console.print(f"[red]--format: {fmt!r} is not one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    _require_finished(output)
    options = {"samples_per_shard": samples_per_shard} if fmt == "webdataset" else {}
    Console().print_json(json.dumps(export(output, fmt, to, **options)))


@app.command()
def report(output: str = typer.Argument(..., help="an output folder of `run` (or its URL)")) -> None:
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
