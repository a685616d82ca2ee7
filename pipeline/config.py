"""pipeline.yaml -> validated, typed config. Every problem is reported before any work starts."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from merge.config import MergeConfig
from schemas.common import BRANCHES


class ConfigError(ValueError):
    """A config problem, phrased for the user: which key, what was given, what is allowed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputConfig(_Strict):
    # A folder (searched recursively for audio), a glob, or a manifest (.csv/.jsonl/.parquet, `uri` column).
    path: str
    extensions: tuple[str, ...] = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".mp4")
    # For fsspec URLs (s3://, gs://, ...): passed to fsspec as is, e.g. {endpoint_url: ..., anon: true}.
    # Left empty, credentials and endpoints come from the environment (AWS_ENDPOINT_URL, AWS_PROFILE, ...).
    storage_options: dict[str, Any] = Field(default_factory=dict)


class OutputConfig(_Strict):
    path: str  # a folder, or an fsspec URL (s3://bucket/prefix, gs://..., ...)
    shard_size: int = Field(16, ge=1, description="recordings per shard: the unit of resume")
    storage_options: dict[str, Any] = Field(default_factory=dict)


class AudioConfig(_Strict):
    sample_rate: Literal[16000] = 16000  # every model here takes 16 kHz mono
    max_duration_s: float = Field(6 * 3600, gt=0, description="longer files are refused with an error row")
    decode_timeout_s: float = Field(300, gt=0, description="a decode that takes longer is ended and recorded")
    segment_context_s: float = Field(0.5, ge=0, description="audio either side of a segment given to annotators as context")


class ResourcesConfig(_Strict):
    cpus: float | None = Field(None, gt=0)
    gpus: float | None = Field(None, ge=0)


class SegmentationConfig(_Strict):
    segmenter: str = "event"
    params: dict[str, Any] = Field(default_factory=dict)


class BranchConfig(_Strict):
    enabled: bool = True
    annotator: str
    params: dict[str, Any] = Field(default_factory=dict)
    batch_size: int = Field(8, ge=1, description="segments per model call, across recordings")
    num_actors: int = Field(1, ge=1)
    resources: ResourcesConfig = ResourcesConfig()


class RuntimeConfig(_Strict):
    # None: connect to RAY_ADDRESS if set, else start Ray on this machine.
    address: str | None = None
    num_cpus: int | None = Field(None, ge=1, description="only for a local Ray; ignored on a cluster")
    max_in_flight: int = Field(8, ge=1, description="recordings decoded and waiting at once (bounds memory)")
    prepare_cpus: float = Field(1.0, gt=0, description="CPUs for each decode + segment actor")
    segment_retries: int = Field(1, ge=0)
    recording_timeout_s: float = Field(
        1800, gt=0, description="a recording whose decode + segment runs longer is cancelled and recorded as an error"
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    autoscaling: bool = Field(
        False, description="the cluster grows on demand: keep actor CPU requests even when they exceed what it has now"
    )
    actor_start_timeout_s: float = Field(
        900, gt=0, description="fail the run if the model actors are not placed and loaded within this time"
    )


class PipelineConfig(_Strict):
    input: InputConfig
    output: OutputConfig
    audio: AudioConfig = AudioConfig()
    segmentation: SegmentationConfig = SegmentationConfig()
    branches: dict[str, BranchConfig]
    merge: MergeConfig = MergeConfig()
    runtime: RuntimeConfig = RuntimeConfig()

    def enabled_branches(self) -> dict[str, BranchConfig]:
        return {name: b for name, b in self.branches.items() if b.enabled}

    def report_dump(self) -> dict[str, Any]:
        """The config as run.json records it: credentials in storage options replaced by "***"."""
        data = self.model_dump(mode="json")
        for part in ("input", "output"):
            data[part]["storage_options"] = _redacted(data[part]["storage_options"])
        return data

    def fingerprint(self) -> str:
        """Hash of everything that changes outputs (not where they go or how fast they are made)."""
        speed_only = {"batch_size", "num_actors", "resources"}
        data = self.model_dump(
            mode="json",
            exclude={"output": {"path", "storage_options"}, "runtime": True, "input": True, "branches": {"__all__": speed_only}},
        )
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


_SECRET_KEY = re.compile(r"key|secret|token|password|credential", re.IGNORECASE)


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "***" if _SECRET_KEY.search(str(k)) and not isinstance(v, dict) else _redacted(v) for k, v in value.items()}
    return [_redacted(v) for v in value] if isinstance(value, list) else value


def _format_error(err: dict[str, Any]) -> str:
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{key}: unknown key (check its spelling)"
    if kind == "missing":
        return f"{key}: required key is missing"
    given = err.get("input")
    return f"{key}: {err['msg']} (given: {given!r})"


def _allowed_keys(model: type[BaseModel], loc: tuple) -> str:
    for part in loc[:-1]:
        field = model.model_fields.get(str(part)) if isinstance(part, str) else None
        ann = getattr(field, "annotation", None) if field else None
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        elif str(part) in ("branches",):
            model = BranchConfig
        else:
            continue
    return ", ".join(model.model_fields)


def parse_config(data: dict[str, Any], base_dir: Path | None = None) -> PipelineConfig:
    """Validate a raw config. Every problem is listed at once (types and keys, branch names, annotator and
    segmenter keys and their params, the input path), so that a user fixes a config in one pass."""
    if not isinstance(data, dict):
        raise ConfigError("config: the top level must be a mapping of keys (input, output, branches, ...)")
    problems: list[str] = []
    cfg = None
    try:
        cfg = PipelineConfig.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            line = _format_error(err)
            if err["type"] == "extra_forbidden":
                line += f"; allowed here: {_allowed_keys(PipelineConfig, tuple(err['loc']))}"
            problems.append(line)
    problems += _component_problems(data)
    problems += _input_path_problems(data, base_dir)
    problems += _storage_problems(data)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(dict.fromkeys(problems)))
    assert cfg is not None
    return _resolve_paths(cfg, base_dir) if base_dir is not None else cfg


def _resolve(p: str, base_dir: Path | None) -> str:
    """Relative input/output paths are relative to the config file, so a config works from any cwd."""
    if base_dir is None or "://" in p or Path(p).is_absolute():
        return p
    return str((base_dir / p).resolve())


def _input_path_problems(data: dict[str, Any], base_dir: Path | None) -> list[str]:
    path = (data.get("input") or {}).get("path") if isinstance(data.get("input"), dict) else None
    if not isinstance(path, str) or "://" in path or any(ch in path for ch in "*?["):
        return []  # a type problem is reported by validation; remote URLs and globs are read at run time
    resolved = _resolve(path, base_dir if base_dir is not None else Path.cwd())
    if not os.path.lexists(resolved):
        return [f"input.path: {resolved} does not exist (a folder, a glob, a manifest or a file)"]
    return []


def _storage_problems(data: dict[str, Any]) -> list[str]:
    """A URL whose fsspec backend is missing (s3fs, gcsfs, ...) is a config problem, not one error per file."""
    from pipeline.storage import backend_problem

    problems = []
    for key in ("input", "output"):
        part = data.get(key)
        path = part.get("path") if isinstance(part, dict) else None
        if isinstance(path, str) and (problem := backend_problem(path)):
            problems.append(f"{key}.path: {problem}")
    return problems


def _resolve_paths(cfg: PipelineConfig, base_dir: Path) -> PipelineConfig:
    return cfg.model_copy(
        update={
            "input": cfg.input.model_copy(update={"path": _resolve(cfg.input.path, base_dir)}),
            "output": cfg.output.model_copy(update={"path": _resolve(cfg.output.path, base_dir)}),
        }
    )


def _component_problems(data: dict[str, Any]) -> list[str]:
    """Branch names, registry keys and their params, from the raw mapping (so they are checked even when
    other keys failed validation) and without loading any model. Malformed parts are left to validation."""
    from annotators.registry import ANNOTATORS
    from segmenters.registry import SEGMENTERS

    problems: list[str] = []
    seg = data.get("segmentation") or {}
    if isinstance(seg, dict) and isinstance(seg.get("segmenter", "event"), str):
        try:
            seg_cls = SEGMENTERS.get(seg.get("segmenter", "event"))
            if isinstance(seg.get("params", {}), dict):
                _validate_params(seg_cls, seg.get("params", {}), "segmentation.params", problems)
        except KeyError as e:
            problems.append(f"segmentation.segmenter: {e.args[0]}")
    branches = data.get("branches")
    for name, branch in (branches.items() if isinstance(branches, dict) else ()):
        if name not in BRANCHES:
            problems.append(f"branches.{name}: unknown branch; allowed: {', '.join(BRANCHES)}")
            continue
        if not isinstance(branch, dict) or not isinstance(branch.get("annotator"), str):
            continue
        try:
            cls = ANNOTATORS.get(branch["annotator"])
        except KeyError as e:
            problems.append(f"branches.{name}.annotator: {e.args[0]}")
            continue
        if cls.branch != name:
            problems.append(f"branches.{name}.annotator: {branch['annotator']!r} annotates {cls.branch!r}, not {name!r}")
        if isinstance(branch.get("params", {}), dict):
            _validate_params(cls, branch.get("params", {}), f"branches.{name}.params", problems)
    return problems


def _validate_params(cls: type, params: dict[str, Any], where: str, problems: list[str]) -> None:
    try:
        cls.Params.model_validate(params)
    except ValidationError as e:
        allowed = ", ".join(cls.Params.model_fields)
        for err in e.errors():
            line = f"{where}.{_format_error(err)}"
            if err["type"] == "extra_forbidden":
                line += f"; allowed here: {allowed}"
            problems.append(line)


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> PipelineConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    set_dotted(data, overrides or {})
    return parse_config(data, base_dir=path.parent.resolve())


def set_dotted(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply {"branches.speech.batch_size": 4, ...} to a raw config mapping in place (missing levels made)."""
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return data
