"""`moss-annotate review OUT`: a static site in OUT/review/ for checking a run by eye and ear (no server).

index.html lists every recording (`data-recording-id`): status, duration, caption, flags, errors. Each
recording's page shows its waveform and spectrogram, its segments on a timeline with one lane per branch
(`data-start` / `data-end`; a click seeks the `<audio>` player there and plays), the branch rows, and the
caption and timeline with the faithfulness check's issues marked. Audio plays from the original file."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path

from pipeline.writer import done_shards, read_rows

BRANCH_COLOURS = {"speech": "#3b7dd8", "music": "#d8913b", "sound": "#4aa564"}
IMAGE_WIDTH_PX, IMAGE_HEIGHT_PX = 1000, 240
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
td, th { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
.status-error { color: #b00020; font-weight: bold; } .status-empty { color: #888; }
.flag { background: #fff3cd; padding: 0 4px; border-radius: 3px; margin-right: 4px; display: inline-block; }
.timeline { position: relative; width: WIDTHpx; border: 1px solid #ccc; margin: 6px 0 14px; }
.lane { position: relative; height: 22px; border-top: 1px solid #eee; }
.lane-label { position: absolute; left: -62px; width: 58px; text-align: right; font-size: 12px; top: 3px; }
.seg { position: absolute; top: 2px; height: 18px; opacity: .8; cursor: pointer; border-radius: 2px; }
.seg:hover { opacity: 1; outline: 2px solid #000; }
.issue { background: #f8d7da; } pre { white-space: pre-wrap; }
.wrap { margin-left: 64px; }
"""

SEEK_SCRIPT = """
document.querySelectorAll('.seg, .seek').forEach(function (el) {
  el.addEventListener('click', function () {
    var player = document.getElementById('player');
    player.currentTime = parseFloat(el.dataset.start);
    var p = player.play(); if (p && p.catch) { p.catch(function () {}); }
  });
});
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def page_name(recording_id: str) -> str:
    return _UNSAFE.sub("_", recording_id) + ".html"


def _by_recording(rows) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for r in rows:
        out[r.recording_id].append(r)
    return out


def _load(out: Path) -> dict[str, dict]:
    tables: dict[str, dict] = {}
    for name in ("recordings", "segments", "speech", "music", "sound", "captions", "errors"):
        rows = [r for sid in sorted(done_shards(out)) for r in read_rows(out, name, sid)]
        tables[name] = _by_recording(rows) if name != "recordings" else {r.recording_id: r for r in rows}
    return tables


def _image(uri: str, path: Path) -> bool:
    """Waveform over spectrogram, one PNG per recording. False if the audio cannot be read now."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from pipeline.audio import DecodeError, decode

    try:
        samples = decode(uri).samples
    except DecodeError:
        return False
    if samples.size == 0:
        return False
    sr = 16000
    fig, (wave, spec) = plt.subplots(2, 1, figsize=(IMAGE_WIDTH_PX / 100, IMAGE_HEIGHT_PX / 100), dpi=100, sharex=True)
    step = max(1, samples.size // 4000)
    t = np.arange(0, samples.size, step) / sr
    wave.plot(t, samples[::step], linewidth=0.4, color="#333")
    wave.set_ylim(-1, 1)
    wave.axis("off")
    spec.specgram(samples, NFFT=512, Fs=sr, noverlap=256, cmap="magma")
    spec.set_ylim(0, 8000)
    spec.axis("off")
    for ax in (wave, spec):
        ax.set_xlim(0, samples.size / sr)
        ax.margins(0)
    fig.subplots_adjust(0, 0, 1, 1, 0, 0.02)
    fig.savefig(path)
    plt.close(fig)
    return True


def _flags(rec, caption) -> list[str]:
    flags = list(rec.warnings or [])
    if caption is not None and not caption.faithful:
        flags.append(f"caption: {len(caption.faithfulness_issues)} faithfulness issue(s)")
    return flags


def _index(tables: dict) -> str:
    rows = []
    for rid, rec in sorted(tables["recordings"].items()):
        caption = (tables["captions"].get(rid) or [None])[0]
        errors = tables["errors"].get(rid, [])
        rows.append(
            f'<tr class="recording" data-recording-id="{_e(rid)}">'
            f'<td><a href="rec/{_e(page_name(rid))}">{_e(rid)}</a></td>'
            f'<td class="status-{_e(rec.status)}">{_e(rec.status)}</td>'
            f'<td>{rec.duration_s or 0:.1f} s</td>'
            f'<td>{_e(caption.caption if caption else "")}</td>'
            f'<td>{"".join(f"<span class=flag>{_e(f)}</span>" for f in _flags(rec, caption))}</td>'
            f'<td>{"<br>".join(_e(f"{e.stage}: {e.message}") for e in errors)}</td></tr>'
        )
    return _page("moss-annotate review", f"<h1>Recordings ({len(rows)})</h1><table><tr><th>recording</th><th>status</th>"
                 f"<th>duration</th><th>caption</th><th>flags</th><th>errors</th></tr>{''.join(rows)}</table>")


def _timeline(rec, segments, rows_by_branch) -> str:
    duration = rec.duration_s or max((s.end_s for s in segments), default=1.0) or 1.0
    lanes = []
    for branch, colour in BRANCH_COLOURS.items():
        blocks = []
        for s in segments:
            if branch not in s.branches:
                continue
            left, width = 100 * s.start_s / duration, max(100 * (s.end_s - s.start_s) / duration, 0.3)
            done = s.segment_id in rows_by_branch[branch]
            blocks.append(
                f'<div class="seg seg-{branch}" title="{_e(branch)} {s.start_s:.2f}-{s.end_s:.2f} s'
                f'{"" if done else " (no row)"}" data-segment-id="{_e(s.segment_id)}" data-branch="{branch}" '
                f'data-start="{s.start_s:.3f}" data-end="{s.end_s:.3f}" '
                f'style="left:{left:.3f}%;width:{width:.3f}%;background:{colour}"></div>'
            )
        lanes.append(f'<div class="lane"><span class="lane-label">{branch}</span>{"".join(blocks)}</div>')
    return f'<div class="timeline">{"".join(lanes)}</div>'


def _branch_rows(segments, rows_by_branch) -> str:
    out = ["<table><tr><th>segment</th><th>branches</th><th>speech</th><th>music</th><th>sound</th></tr>"]
    for s in segments:
        sp, mu, so = (rows_by_branch[b].get(s.segment_id) for b in ("speech", "music", "sound"))
        speech = f"[{_e(sp.speaker)}] {_e(sp.text)} <i>({_e(sp.language)})</i>" if sp else ""
        music = (f"{_e(mu.tempo_bpm and round(mu.tempo_bpm))} BPM, {_e(mu.key)} {_e(mu.mode)}; "
                 f"{_e(', '.join(t.label for t in mu.tags))}") if mu else ""
        sound = "; ".join(f"{_e(e.label)}{'' if getattr(e, 'stated', True) else ' (not stated)'} "
                          f"{e.start_s:.2f}-{e.end_s:.2f}" for e in so.events) if so else ""
        out.append(f'<tr><td><a class="seek" href="#" data-start="{s.start_s:.3f}">{s.start_s:.2f}-{s.end_s:.2f}</a></td>'
                   f'<td>{_e(", ".join(s.branches))}</td><td>{speech}</td><td>{music}</td><td>{sound}</td></tr>')
    out.append("</table>")
    return "".join(out)


def _caption(caption) -> str:
    if caption is None:
        return "<p>No caption.</p>"
    issues = list(caption.faithfulness_issues)
    lines = []
    for line in caption.timeline_text.splitlines():
        marked = any(i and (i in line or line.split(": ", 1)[-1] in i) for i in issues)
        lines.append(f'<div class="{"issue" if marked else ""}">{_e(line)}</div>')
    verdict = "faithful" if caption.faithful else f"{len(issues)} faithfulness issue(s)"
    return (f"<h2>Caption ({_e(caption.merger)}, {verdict})</h2><p>{_e(caption.caption)}</p>"
            + "".join(f'<p class="issue">{_e(i)}</p>' for i in issues) + f"<h2>Timeline</h2>{''.join(lines)}")


def _recording_page(rid: str, tables: dict, image: str | None) -> str:
    rec = tables["recordings"][rid]
    segments = sorted(tables["segments"].get(rid, []), key=lambda s: s.start_s)
    rows_by_branch = {b: {r.segment_id: r for r in tables[b].get(rid, [])} for b in BRANCH_COLOURS}
    caption = (tables["captions"].get(rid) or [None])[0]
    audio_src = Path(rec.uri).resolve().as_uri() if "://" not in rec.uri else rec.uri
    errors = "".join(f"<p class='status-error'>{_e(e.stage)}: {_e(e.message)}</p>" for e in tables["errors"].get(rid, []))
    img = f'<img src="../img/{_e(image)}" width="{IMAGE_WIDTH_PX}" alt="waveform and spectrogram">' if image else ""
    body = (
        f'<p><a href="../index.html">all recordings</a></p><h1>{_e(rid)}</h1>'
        f"<p>{_e(rec.uri)} · {rec.duration_s or 0:.2f} s · {_e(rec.codec)} · status {_e(rec.status)}</p>{errors}"
        f'<audio id="player" controls preload="metadata" src="{_e(audio_src)}"></audio>'
        f'<div class="wrap">{img}{_timeline(rec, segments, rows_by_branch)}</div>'
        f"{_caption(caption)}<h2>Segments ({len(segments)})</h2>{_branch_rows(segments, rows_by_branch)}"
    )
    return _page(rid, body, script=SEEK_SCRIPT)


def _page(title: str, body: str, script: str = "") -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{STYLE.replace('WIDTH', str(IMAGE_WIDTH_PX))}</style></head><body>{body}"
            f"{f'<script>{script}</script>' if script else ''}</body></html>")


def build_review(out: Path, images: bool = True) -> Path:
    """Write OUT/review/ and return its index.html."""
    site = out / "review"
    (site / "rec").mkdir(parents=True, exist_ok=True)
    (site / "img").mkdir(exist_ok=True)
    tables = _load(out)
    for rid, rec in tables["recordings"].items():
        image = None
        if images and rec.status == "ok":
            name = page_name(rid).replace(".html", ".png")
            image = name if _image(rec.uri, site / "img" / name) else None
        (site / "rec" / page_name(rid)).write_text(_recording_page(rid, tables, image))
    index = site / "index.html"
    index.write_text(_index(tables))
    return index
