"""Regenerate examples/: four short, licence-clean recordings plus their ground truth (examples/truth.jsonl).

Needs the Debian packages espeak-ng, fluidsynth, fluid-soundfont-gm, sonic-pi-samples, openttd-opensfx and
ffmpeg, and numpy/soundfile/soxr from the project venv:

    python scripts/make_examples.py [--out examples]   # writes examples/audio/* and examples/truth.jsonl

Event times follow the shared corpus conventions (see the corpus README): every clip is trimmed to its
audible extent before placement (10 ms frames, threshold max(peak frame - 40 dB, -60 dBFS), pad 20 ms;
speech pads 50 ms), then levelled: speech and sound to -24 dBFS active RMS (sound peaks capped at -3 dBFS),
music to -26 dBFS overall RMS. A pink-noise room tone sits under every file.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

log = logging.getLogger("make_examples")

SR = 16000
FRAME_S = 0.010
TRIM_RANGE_DB = 40.0
TRIM_FLOOR_DBFS = -60.0
PAD_S = 0.020
SPEECH_PAD_S = 0.050
SPEECH_ABOVE_FLOOR_DB = 10.0
SPEECH_DBFS, SOUND_DBFS, MUSIC_DBFS = -24.0, -24.0, -26.0
SOUND_PEAK_DBFS = -3.0
NOISE_FLOOR_DBFS = -65.0
MAX_PEAK_DBFS = -1.0
SEED = 20240611
AUDIO_DIR = "audio"  # only audio in it, so the folder can be a pipeline input as is

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SONIC_PI = Path("/usr/share/sonic-pi/samples")
OPENSFX_CAT = Path("/usr/share/games/openttd/baseset/opensfx/opensfx.cat")
OPENSFX_COW = 37


# ----------------------------------------------------------------------------- levels and trimming


def _frame_db(x: np.ndarray) -> np.ndarray:
    n = int(FRAME_S * SR)
    frames = x[: len(x) // n * n].reshape(-1, n)
    return 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20)


def _active(x: np.ndarray, speech: bool) -> np.ndarray:
    db = _frame_db(x)
    thr = max(db.max() - TRIM_RANGE_DB, TRIM_FLOOR_DBFS)
    if speech:
        thr = max(thr, np.percentile(db, 10) + SPEECH_ABOVE_FLOOR_DB)
    return db > thr


def trim(x: np.ndarray, speech: bool) -> tuple[np.ndarray, float]:
    """The clip cut to its audible extent, and its longest internal pause (s)."""
    act = np.flatnonzero(_active(x, speech))
    n, pad = int(FRAME_S * SR), int((SPEECH_PAD_S if speech else PAD_S) * SR)
    lo, hi = max(0, act[0] * n - pad), min(len(x), (act[-1] + 1) * n + pad)
    gaps = np.diff(act) - 1
    return x[lo:hi].copy(), float(gaps.max() * FRAME_S) if len(gaps) else 0.0


def active_rms_db(x: np.ndarray, speech: bool = False) -> float:
    db = _frame_db(x)
    act = _active(x, speech)
    return float(10 * np.log10(np.mean(10 ** (db[act] / 10))))


def level(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "music":
        gain_db = MUSIC_DBFS - 10 * np.log10(np.mean(x.astype(np.float64) ** 2))
        return (x * 10 ** (gain_db / 20)).astype(np.float32)
    target = SPEECH_DBFS if kind == "speech" else SOUND_DBFS
    y = x * 10 ** ((target - active_rms_db(x, kind == "speech")) / 20)
    peak_cap = 10 ** (SOUND_PEAK_DBFS / 20)
    if kind == "sound" and np.abs(y).max() > peak_cap:
        y *= peak_cap / np.abs(y).max()
    return y.astype(np.float32)


def to_16k_mono(x: np.ndarray, sr: int) -> np.ndarray:
    x = x.mean(axis=1) if x.ndim == 2 else x
    return soxr.resample(x.astype(np.float32), sr, SR, quality="HQ") if sr != SR else x.astype(np.float32)


def read(path: Path | str) -> np.ndarray:
    x, sr = sf.read(str(path), dtype="float32")
    return to_16k_mono(x, sr)


def pink_noise(n: int, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    spec /= np.sqrt(np.maximum(np.arange(len(spec)), 1))
    y = np.fft.irfft(spec, n)
    return (y * 10 ** (dbfs / 20) / np.sqrt(np.mean(y**2))).astype(np.float32)


# ----------------------------------------------------------------------------- sources


def espeak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), text], check=True)
        return read(out)


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    while n > 0x7F:
        n >>= 7
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


@dataclass(frozen=True)
class Note:
    beat: float
    beats: float
    pitch: int
    velocity: int = 80


def write_midi(path: Path, notes: list[Note], bpm: float, program: int, meter: tuple[int, int], tail_beats: float = 4) -> None:
    """A type-0 standard MIDI file: tempo, meter, one program on channel 0, the notes, a silent tail."""
    tpb = 480
    events = [(0, b"\xff\x51\x03" + int(60e6 / bpm).to_bytes(3, "big")),
              (0, b"\xff\x58\x04" + bytes([meter[0], meter[1].bit_length() - 1, 24, 8])),
              (0, bytes([0xC0, program]))]
    for n in notes:
        events.append((round(n.beat * tpb), bytes([0x90, n.pitch, n.velocity])))
        events.append((round((n.beat + n.beats) * tpb), bytes([0x80, n.pitch, 0])))
    end = max(t for t, _ in events) + round(tail_beats * tpb)
    events.sort(key=lambda e: (e[0], e[1][0] == 0x90))  # note-offs before note-ons at the same tick
    track, now = b"", 0
    for t, data in events + [(end, b"\xff\x2f\x00")]:
        track += _vlq(t - now) + data
        now = t
    path.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpb) + b"MTrk" + struct.pack(">I", len(track)) + track)


def render_midi(notes: list[Note], bpm: float, program: int, meter: tuple[int, int]) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "m.mid", Path(tmp) / "m.wav"
        write_midi(mid, notes, bpm, program, meter)
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(SR), "-F", str(wav), SOUNDFONT, str(mid)],
                       check=True, capture_output=True)
        return read(wav)


def opensfx(index: int) -> np.ndarray:
    """One sound from OpenTTD's opensfx.cat: a table of (offset, size) pairs; each entry is a name then a RIFF WAV."""
    data = OPENSFX_CAT.read_bytes()
    offset, size = struct.unpack_from("<II", data, 8 * index)
    blob = data[offset & 0x7FFFFFFF : (offset & 0x7FFFFFFF) + size]
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        tmp.write(blob[1 + blob[0] :])
        tmp.flush()
        return read(tmp.name)


# ----------------------------------------------------------------------------- compositions


def ode_to_joy() -> list[Note]:
    """Beethoven's 'Ode to Joy' theme (public domain), 8 bars of 4/4 in C, melody plus whole-note chords."""
    E, F, G, D, C = 76, 77, 79, 74, 72
    phrase = [E, E, F, G, G, F, E, D, C, C, D, E]
    endings = ([(E, 1.5), (D, 0.5), (D, 2)], [(D, 1.5), (C, 0.5), (C, 2)])
    notes, beat = [], 0.0
    for ending in endings:
        for p in phrase:
            notes.append(Note(beat, 1, p, 90))
            beat += 1
        for p, d in ending:
            notes.append(Note(beat, d, p, 90))
            beat += d
    chords = [(48, 52, 55), (43, 50, 53), (48, 52, 55), (43, 47, 50)] * 2
    chords[-1] = (48, 52, 55)
    notes += [Note(4 * bar, 4, p, 60) for bar, ch in enumerate(chords) for p in ch]
    return notes


def guitar_arpeggios(bars: int) -> list[Note]:
    """C - Am - F - G, eighth-note arpeggios, one chord per 4/4 bar."""
    shapes = [(48, 55, 60, 64), (45, 52, 57, 60), (41, 48, 53, 57), (43, 50, 55, 59)]
    order = (0, 1, 2, 3, 2, 1, 2, 3)
    return [Note(4 * bar + 0.5 * i, 0.75, shapes[bar % 4][j], 75) for bar in range(bars) for i, j in enumerate(order)]


# ----------------------------------------------------------------------------- scenes and truth


@dataclass
class Scene:
    name: str
    ext: str
    duration: float
    description: str
    tags: list[str]
    events: list[dict] = field(default_factory=list)
    clips: list[tuple[float, np.ndarray]] = field(default_factory=list)

    def place(self, start: float, clip: np.ndarray, gain_db: float, event: dict) -> None:
        clip = clip * np.float32(10 ** (gain_db / 20))
        self.clips.append((start, clip))
        end = round(start + len(clip) / SR, 3)
        self.events.append({"start": start, "end": end, **event, "gain_db": gain_db,
                            "level_dbfs": round(active_rms_db(clip, event["kind"] == "speech"), 1)})

    def mix(self, rng: np.random.Generator) -> np.ndarray:
        n = round(self.duration * SR)
        out = pink_noise(n, NOISE_FLOOR_DBFS, rng)
        for start, clip in self.clips:
            i = round(start * SR)
            out[i : i + len(clip)] += clip[: n - i]
        peak = np.abs(out).max()
        assert peak <= 10 ** (MAX_PEAK_DBFS / 20), f"{self.name}: peak {20 * np.log10(peak):.1f} dBFS"
        return out


def speech_event(text: str, voice: str, speed: int, pitch: int) -> tuple[np.ndarray, dict]:
    clip, pause = trim(espeak(text, voice, speed, pitch), speech=True)
    variant = voice.replace("+", "_")
    return level(clip, "speech"), {
        "kind": "speech", "label": f"espeak_{variant}_s{speed}_p{pitch}", "text": text,
        "speaker": f"espeak_{variant}_s{speed}_p{pitch}", "language": "en", "real_recording": False,
        "source": f"espeak-ng -v {voice} -s {speed} -p {pitch}", "max_internal_pause_s": round(pause, 2),
        "text_norm": " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split()),
    }


def sound_event(clip: np.ndarray, label: str, source: str) -> tuple[np.ndarray, dict]:
    clip, _ = trim(clip, speech=False)
    return level(clip, "sound"), {"kind": "sound", "label": label, "text": None, "real_recording": True, "source": source}


def music_event(clip: np.ndarray, instrument: str, bpm: int, meter: str, composition_len_s: float, what: str):
    clip, _ = trim(clip, speech=False)
    return level(clip, "music"), {
        "kind": "music", "label": f"{instrument}|{bpm}bpm", "text": None, "instrument": [instrument],
        "tempo_bpm": bpm, "meter": meter, "real_recording": False,
        "source": f"own MIDI '{what}' rendered with FluidR3_GM (sampled real instruments)",
        "composition_len_s": composition_len_s,
    }


def truth_record(scene: Scene) -> dict:
    events = sorted(scene.events, key=lambda e: (e["start"], e["end"]))
    for i, e in enumerate(events):
        e["overlaps"] = [j for j, o in enumerate(events) if j != i and o["start"] < e["end"] and e["start"] < o["end"]]
    bounds = sorted({t for e in events for t in (e["start"], e["end"])})
    cuts = [0.0] + [b for b in bounds if 0 < b < scene.duration] + [scene.duration]
    segments = []
    for lo, hi in zip(cuts, cuts[1:]):
        active = [i for i, e in enumerate(events) if e["start"] < hi and lo < e["end"]]
        kinds = sorted({events[i]["kind"] for i in active}) or ["silence"]
        segments.append({"start": lo, "end": hi, "kinds": kinds, "events": active})
    kind_changes = [s["start"] for prev, s in zip(segments, segments[1:]) if s["kinds"] != prev["kinds"]]
    return {
        "file": f"{AUDIO_DIR}/{scene.name}.{scene.ext}", "scene": scene.name, "duration": scene.duration, "sample_rate": SR,
        "channels": 1, "description": scene.description, "tags": scene.tags, "events": events,
        "boundaries": bounds, "kind_change_boundaries": kind_changes, "segments": segments,
        "global_gain_db": 0.0, "notes": [], "noise_floor_dbfs": NOISE_FLOOR_DBFS,
    }


def build_scenes() -> list[Scene]:
    s1 = Scene("ex1_two_speakers", "wav", 0.0, "Two synthetic English voices (espeak-ng), one after the other, in quiet room tone.",
               ["speech", "speaker_change"])
    a, ea = speech_event("Hello, and welcome to this short recording. Thank you for listening to our little test.",
                         "en-us", 150, 50)
    b, eb = speech_event("The weather is sunny and warm today, so we can walk to the park after lunch.", "en-us+f3", 150, 60)
    s1.place(0.5, a, 0.0, ea)
    s1.place(round(0.5 + len(a) / SR + 1.0, 3), b, 0.0, eb)
    s1.duration = round(s1.events[-1]["end"] + 0.7, 3)

    s2 = Scene("ex2_piano_120bpm", "flac", 0.0, "Solo piano: the 'Ode to Joy' theme, 8 bars of 4/4 at 120 BPM (own MIDI, FluidR3_GM).",
               ["music", "tempo"])
    p, ep = music_event(render_midi(ode_to_joy(), 120, 0, (4, 4)), "acoustic_grand_piano", 120, "4/4", 16.0, "ode_to_joy_120")
    s2.place(1.0, p, 0.0, ep)
    s2.duration = round(s2.events[-1]["end"] + 1.0, 3)

    s3 = Scene("ex3_sound_events", "wav", 0.0, "Three real CC0 recordings in room tone: a door slam, a bell, a cow.",
               ["sound", "events"])
    t = 0.5
    for clip, label, src in ((read(SONIC_PI / "perc_door.flac"), "door_slam", "spi:perc_door"),
                             (read(SONIC_PI / "perc_bell.flac"), "bell", "spi:perc_bell"),
                             (opensfx(OPENSFX_COW), "cow", "osfx:37")):
        c, ec = sound_event(clip, label, src)
        s3.place(t, c, 0.0, ec)
        t = round(s3.events[-1]["end"] + 1.5, 3)
    s3.duration = round(t - 0.8, 3)

    s4 = Scene("ex4_speech_music_door", "mp3", 0.0,
               "A voice over quiet nylon-guitar music (100 BPM), with a door slam during the speech. MP3.",
               ["speech", "music", "sound", "overlap"])
    m, em = music_event(render_midi(guitar_arpeggios(8), 100, 24, (4, 4)), "acoustic_guitar_nylon", 100, "4/4", 19.2, "guitar_100")
    s4.place(0.5, m, -8.0, em)
    v, ev = speech_event("Good morning. Today we are listening to a quiet song on the guitar, "
                         "and somebody closes a door in the next room.", "en-us+m3", 150, 50)
    s4.place(3.0, v, 0.0, ev)
    d, ed = sound_event(read(SONIC_PI / "perc_door.flac"), "door_slam", "spi:perc_door")
    s4.place(round(3.0 + 0.6 * len(v) / SR, 3), d, -3.0, ed)
    s4.duration = round(max(e["end"] for e in s4.events) + 0.8, 3)
    return [s1, s2, s3, s4]


def write_audio(path: Path, x: np.ndarray) -> None:
    if path.suffix == ".mp3":
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            sf.write(tmp.name, x, SR, subtype="PCM_16")
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", tmp.name, "-c:a", "libmp3lame", "-b:a", "64k",
                            "-map_metadata", "-1", "-fflags", "+bitexact", str(path)], check=True)
    else:
        sf.write(str(path), x, SR, subtype="PCM_16")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "examples")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    records = []
    for scene in build_scenes():
        path = args.out / AUDIO_DIR / f"{scene.name}.{scene.ext}"
        path.parent.mkdir(exist_ok=True)
        write_audio(path, scene.mix(rng))
        records.append(truth_record(scene))
        log.info("%s: %.2f s, %d events, %d bytes", path.name, scene.duration, len(scene.events), path.stat().st_size)
    (args.out / "truth.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


if __name__ == "__main__":
    main()
