"""Compile numba's caches once, in one process, right after the environment is built.

librosa's numba functions (peak picking, beat tracking, ...) are compiled on first use and cached inside
site-packages. When several Ray workers compile them at the same moment, each writes its own signature into
a shared cache index, and an index that names another process's machine code makes every later call crash
(SIGSEGV in every worker that segments, restarted again and again). So the cache files left by any earlier
process are removed first, and compiled here, in one process, the workers only ever read them."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import load_config  # noqa: E402
from pipeline.manifest import InputItem  # noqa: E402
from pipeline.stages import annotate_batch, make_annotator, prepare_recording, segment_audio, work_items  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = ("ex2_piano_120bpm.flac", "ex4_speech_music_door.mp3")  # music (beats, key) and a mixed scene


def clear_numba_caches() -> int:
    """Remove librosa's numba cache files (index .nbi, machine code .nbc); returns how many."""
    import librosa

    stale = [p for ext in ("*.nbi", "*.nbc") for p in Path(librosa.__file__).parent.rglob(ext)]
    for path in stale:
        path.unlink()
    return len(stale)


def main() -> None:
    print(f"removed {clear_numba_caches()} numba cache files")
    cfg = load_config(REPO / "pipeline.yaml")
    music = make_annotator(cfg.branches["music"])
    for name in EXAMPLES:
        uri = str(REPO / "examples" / "audio" / name)
        prepared = prepare_recording(InputItem(name, uri), cfg.audio, cfg.segmentation)
        items = work_items(prepared, "music")
        audio = [segment_audio(w, prepared.samples, cfg.audio.sample_rate) for w in items]
        annotate_batch(music, items, audio)
    print("numba caches compiled")


if __name__ == "__main__":
    main()
