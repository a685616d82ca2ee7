"""The Ray Core driver: a bounded window of recordings streaming through a pool of decode+segment actors and
per-branch actor pools, regrouped per recording, merged, and written per shard."""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from dataclasses import dataclass, field

from pipeline.actors import AudioRef, BranchWorker, MergeWorker, PrepareWorker
from pipeline.config import PipelineConfig
from pipeline.fingerprints import FULL, STAGE_TABLES, ShardWork, describe_plan, shard_work, stage_fingerprints
from pipeline.manifest import InputItem, read_inputs, shard
from pipeline.placement import Slot, describe
from pipeline.ray_runtime import Placement, PlacementError, init_ray, pinned, plan_placement, starts_local_ray
from pipeline.report import NullProgress, ProgressHook, RunStats, write_run_report
from pipeline.stages import BatchOutcome, PreparedRecording, WorkItem, one_line, work_items
from pipeline.redo import DECODE, NOTHING, KeptRecording, load_kept
from pipeline.locks import LeaseLock, OutputLock
from pipeline.storage import Store
from pipeline.writer import (
    members_hash, output_lock, prepare_output, read_markers, read_previous_stages, record_state, shard_stages, write_shard,
)
from schemas.errors import ErrorRow

log = logging.getLogger(__name__)

WAIT_TIMEOUT_S = 1.0  # how often the driver wakes to check recording time limits
# Merging is light (or waits on an LLM endpoint): it must never wait for CPUs the long-lived actors hold.
MERGE_CPUS = 0
# Shard merges one merge actor runs at once (threads): an LLM rewriter's waits overlap.
MERGE_CONCURRENCY = 4


@dataclass
class RecordingState:
    prepared: PreparedRecording
    audio: AudioRef | None
    pending: int
    rows: dict[str, list] = field(default_factory=dict)
    errors: list[ErrorRow] = field(default_factory=list)


@dataclass
class ShardState:
    shard_id: str
    items: list[InputItem]
    work: ShardWork
    recordings: dict[str, RecordingState] = field(default_factory=dict)
    finished: int = 0
    merging: bool = False
    kept: dict[str, KeptRecording] = field(default_factory=dict)  # a partial redo: what it keeps, per recording


Todo = list[tuple[ShardWork, list[InputItem]]]


class Runner:
    def __init__(self, cfg: PipelineConfig, overwrite: bool = False, progress: ProgressHook | None = None):
        self.cfg = cfg
        self.out = Store(cfg.output.path, cfg.output.storage_options)
        self.lock: OutputLock | LeaseLock | None = None
        self.overwrite = overwrite
        self.progress = progress or NullProgress()
        self.stats = RunStats()
        self.stages = stage_fingerprints(cfg)
        self.inputs: list[InputItem] = []  # what the run read from input.path (a dry run reports it)

    @property
    def plan_lines(self) -> list[str]:
        return self.stats.plan

    # ---- planning -------------------------------------------------------------------------------------
    def plan(self, items: list[InputItem], dry_run: bool = False) -> tuple[Todo, int]:
        """Per shard, the stages to (re)do: none (up to date), some (a partial redo: the changed stages and
        those downstream), or all. Call with the output lock held unless `dry_run` (which changes nothing)."""
        shards = shard(items, self.cfg.output.shard_size)
        legacy = self.cfg.fingerprint()
        size = self.cfg.output.shard_size
        if dry_run:
            previous = None if self.overwrite else read_previous_stages(self.out, self.stages, legacy, size)
        else:
            previous = prepare_output(self.out, self.stages, legacy, self.overwrite, size)
        markers = {} if self.overwrite and dry_run else read_markers(self.out)  # one read of each marker
        stored = shard_stages(markers, previous)
        members = {sid: m.get("members") for sid, m in markers.items()}
        todo: Todo = []
        for sid, its in shards:
            if sid in stored and stored[sid] is None:
                work = ShardWork(sid, frozenset({FULL}), "made with an unknown config")
            elif members.get(sid) not in (None, members_hash(it.recording_id for it in its)):
                work = ShardWork(sid, frozenset({FULL}), "its inputs changed")
            else:
                work = shard_work(sid, stored.get(sid), self.stages)
            if work is not None:
                todo.append((work, its))
        self.stats.plan = describe_plan([w for w, _ in todo], sum(1 for sid, _ in shards if sid in stored))
        self.stats.shards_skipped = len(shards) - len(todo)
        redone = {w.shard_id for w, _ in todo}
        return todo, sum(len(its) for sid, its in shards if sid not in redone)

    def run(self, dry_run: bool = False) -> RunStats:
        t0 = time.perf_counter()
        # a bad input fails before the output exists
        items = self.inputs = read_inputs(self.cfg.input.path, self.cfg.input.extensions, self.cfg.input.storage_options)
        if dry_run:
            self.plan(items, dry_run=True)
            return self.stats
        with output_lock(self.out) as lock:
            self.lock = lock
            todo, already = self.plan(items)
            if todo:
                lock.announce()
            for line in self.plan_lines:
                log.info("plan: %s", line)
            self.progress.start(sum(len(its) for _, its in todo), already)
            try:
                if todo:  # a finished output is left exactly as it is: no Ray, no rewritten table
                    self._run_shards(todo)
            finally:
                self.progress.stop()
            self.stats.wall_s = time.perf_counter() - t0
            record_state(self.out, self.stages, self.cfg.fingerprint(), self.cfg.output.shard_size)
            if todo:
                write_run_report(self.out, self.cfg.report_dump(), self.stats)
        return self.stats

    # ---- the loop -------------------------------------------------------------------------------------
    def _run_shards(self, todo: Todo) -> None:
        import ray

        from pipeline.watchdog import Watchdog

        t0 = time.perf_counter()
        # A private local Ray dies with this process even on SIGKILL; a cluster's processes are the cluster's.
        watchdog = Watchdog.start() if not ray.is_initialized() and starts_local_ray(self.cfg) else None
        try:
            local = init_ray(self.cfg)
            try:
                placement = plan_placement(self.cfg, local, branches=_branches_needed(self.cfg, todo))
                loop = _Loop(self, placement, todo, t0)  # starts the actors; models load while the first files are prepared
                try:
                    loop.run()
                finally:
                    self.stats.nodes = loop.node_report()
            finally:
                if local:
                    ray.shutdown()
        finally:
            if watchdog is not None:
                watchdog.stop()


class _Loop:
    """Driver state for one run. Every future is a prepare, an annotate batch, or a shard merge."""

    def __init__(self, runner: Runner, placement: Placement, todo: Todo, started_at: float):
        import ray

        self.ray = ray
        self.r = runner
        self.cfg = runner.cfg
        self.placement = placement
        self.shards = {w.shard_id: ShardState(w.shard_id, its, w) for w, its in todo}
        self.shard_of_recording = {it.recording_id: w.shard_id for w, its in todo for it in its}
        self.futures: dict = {}
        self.in_window = 0
        # A recording goes only to an idle prepare actor, so its age is its running time (the recording time
        # limit must not count time spent queued behind other recordings).
        self.prepare_started: dict = {}  # metadata ref -> time.monotonic() at submission
        needed = _branches_needed(self.cfg, todo)
        self.branches = {b: c for b, c in self.cfg.enabled_branches().items() if b in needed}
        self.whole_recordings = {b: _annotator_class(c.annotator).whole_recordings for b, c in self.branches.items()}
        self.pending = {b: deque() for b in self.branches}
        self.idle = {b: deque() for b in self.branches}
        self.preparers: deque = deque()  # idle prepare actors, as (actor, slot)
        self.started_at = started_at
        self.start_deadline = 0.0
        # Workers log warnings; at debug level (the driver's), tracebacks too.
        self.worker_log_level = logging.DEBUG if logging.getLogger().isEnabledFor(logging.DEBUG) else logging.WARNING
        self.node_of: dict[int, tuple[str, str]] = {}  # id(actor handle) -> (node id, worker kind)
        self.tasks_by_node: dict[str, int] = {}
        self.queue: deque = deque()  # (shard id, item, what it needs: "prepare" or "decode")
        finished_now = []
        for w, its in todo:
            shard = self.shards[w.shard_id]
            if w.full:
                self.queue.extend((w.shard_id, it, "prepare") for it in its)
                continue
            shard.kept = load_kept(runner.out, w, its, set(self.cfg.enabled_branches()))
            for it in its:
                kept = shard.kept[it.recording_id]
                if kept.needs == NOTHING:
                    finished_now.append((w.shard_id, it, kept))
                else:
                    self.queue.append((w.shard_id, it, kept.needs))
        # Decode-only redos (music, sound) never load the segmenter's models.
        self.segment_on_start = any(needs != DECODE for _, _, needs in self.queue)
        self._start_actors()
        for sid, it, kept in finished_now:  # nothing to recompute: straight to the merge
            self.in_window += 1
            self._add_prepared(sid, it, None, kept.prepared)

    def _new_preparer(self, slot: Slot):
        actor = self.ray.remote(PrepareWorker).options(num_cpus=slot.cpus, max_restarts=-1, max_task_retries=2, **pinned(slot))
        return actor.remote(self.cfg.audio, self.cfg.segmentation, slot.cpus, "cpu", self.worker_log_level, self.segment_on_start,
                            self.cfg.input.storage_options)

    def _start_actors(self) -> None:
        """Decode + segment actors load first and alone (nothing can start before them); the branch and merge
        actors then load while the first recordings are being prepared. A redo that only decodes starts them
        all at once (a decode-only worker loads no model). A branch model that fails to load still stops the
        run within seconds (`_on_start`), and one that is not placed in time, at the limit."""
        self.preparers.extend((self._new_preparer(slot), slot) for slot in self.placement.preparers)
        if not self.segment_on_start:
            self._start_branch_actors()
        asks = f"CPU {self.placement.preparers[0].cpus:.3g}"
        nodes = self._await_start([a.ready.remote() for a, _ in self.preparers], "decode + segment", asks)
        for (actor, _), node in zip(self.preparers, nodes):
            self.node_of[id(actor)] = (node, "prepare")
        if self.segment_on_start:
            self._start_branch_actors()

    def _start_branch_actors(self) -> None:
        # One long-lived merge actor: as plain tasks, Ray started (and killed) a worker process per shard merge.
        self.merger = (
            self.ray.remote(MergeWorker)
            .options(num_cpus=MERGE_CPUS, max_concurrency=MERGE_CONCURRENCY, max_restarts=-1, max_task_retries=2)
            .remote(self.cfg.merge, self.worker_log_level)
        )
        actor_cls = self.ray.remote(BranchWorker)
        self.start_deadline = time.monotonic() + self.cfg.runtime.actor_start_timeout_s
        for name, branch in self.branches.items():
            threads = self.placement.actor_threads[name]
            for slot in self.placement.for_branch(name):
                device = "cuda" if slot.gpus > 0 else "cpu"
                asks = f"CPU {slot.cpus:.3g}, GPU {slot.gpus:.3g}"
                actor = actor_cls.options(num_cpus=slot.cpus, num_gpus=slot.gpus, max_restarts=-1, max_task_retries=2, **pinned(slot)).remote(
                    branch, threads, device, self.cfg.audio, self.cfg.runtime.segment_retries, self.worker_log_level
                )
                self.idle[name].append(actor)  # batches may queue on it while it loads
                self.futures[actor.model_info.remote()] = ("start", name, asks, slot.index == 0, actor)

    def _await_start(self, refs, what: str, asks: str):
        """ray.get with a limit: an actor the cluster cannot place would otherwise wait forever, silently."""
        try:
            return self.ray.get(refs, timeout=self.cfg.runtime.actor_start_timeout_s)
        except self.ray.exceptions.RayActorError as e:
            raise _load_failed(what, e) from None
        except self.ray.exceptions.GetTimeoutError:
            raise self._not_placed(what, asks) from None

    def _not_placed(self, what: str, asks: str) -> PlacementError:
        limit = self.cfg.runtime.actor_start_timeout_s
        slots = self.placement.actors + self.placement.preparers
        return PlacementError(
            f"{what} workers were not placed and loaded within runtime.actor_start_timeout_s={limit:g} s; "
            f"each {what} worker asks for {asks} (lower branches.*.resources / num_actors, or add nodes). "
            f"{describe(self.placement.nodes, slots)}"
        )

    def run(self) -> None:
        while self.queue or self.futures or any(self.pending.values()):
            self._submit_prepares()
            self._dispatch_batches()
            self._expire_prepares()
            self._check_start_deadline()
            if not self.futures:
                continue
            ready, _ = self.ray.wait(list(self.futures), num_returns=1, timeout=WAIT_TIMEOUT_S)
            for ref in ready:
                kind, *ctx = self.futures.pop(ref)
                getattr(self, f"_on_{kind}")(ref, *ctx)

    def _submit_prepares(self) -> None:
        rt = self.cfg.runtime
        while self.queue and self.in_window < rt.max_in_flight and self.preparers:
            sid, item, needs = self.queue.popleft()
            actor, slot = self.preparers.popleft()
            call = actor.prepare if needs == "prepare" else actor.decode
            meta, audio = call.options(num_returns=2).remote(item)
            self.futures[meta] = ("prepare", sid, item, audio, actor, slot)
            self.prepare_started[meta] = time.monotonic()
            self.in_window += 1

    def _preparing(self) -> bool:
        return bool(self.prepare_started)

    def _expire_prepares(self) -> None:
        """End prepare tasks running longer than runtime.recording_timeout_s (a stuck decoder or segmenter)."""
        limit = self.cfg.runtime.recording_timeout_s
        now = time.monotonic()
        for ref, started in list(self.prepare_started.items()):
            if now - started <= limit or self.ray.wait([ref], timeout=0)[0]:  # a finished one takes the normal path
                continue
            del self.prepare_started[ref]
            _, sid, item, audio, actor, slot = self.futures.pop(ref)
            self.ray.kill(actor, no_restart=True)  # a restarted actor would retry the stuck call
            fresh = self._new_preparer(slot)
            self.node_of[id(fresh)] = self.node_of.pop(id(actor), ("?", "prepare"))  # planned for the same node
            self.preparers.append((fresh, slot))
            log.warning("%s: not decoded and segmented within %g s; cancelled", item.uri, limit)
            self._add_prepared(sid, item, audio, _timeout_failure(item, limit))

    def _dispatch_batches(self) -> None:
        preparing = self._preparing()
        for name, branch in self.branches.items():
            queue, idle = self.pending[name], self.idle[name]
            # A partial batch goes only when nothing being prepared could still fill it.
            while idle and queue and (len(queue) >= branch.batch_size or not preparing):
                n = min(branch.batch_size, len(queue))
                if self.whole_recordings[name]:
                    n = _end_of_recording(queue, n)
                batch = [queue.popleft() for _ in range(n)]
                items = [w for w, _ in batch]
                refs = [a for _, a in batch]
                actor = idle.popleft()
                self.futures[actor.annotate.remote(items, refs)] = ("annotate", name, actor, items)

    def _check_start_deadline(self) -> None:
        starting = [ctx for kind, *ctx in self.futures.values() if kind == "start"]
        if starting and time.monotonic() > self.start_deadline:
            name, asks, *_ = starting[0]
            raise self._not_placed(name, asks)

    # ---- completions ----------------------------------------------------------------------------------
    def _on_start(self, ref, name: str, asks: str, first: bool, actor) -> None:
        try:
            model_id, version, node = self.ray.get(ref)
        except self.ray.exceptions.RayError as e:  # the model failed to load: end the run, in one line
            raise _load_failed(name, e) from None
        self.node_of[id(actor)] = (node, name)
        if first:
            self.r.stats.models[name] = {"annotator": self.branches[name].annotator, "model_id": model_id, "model_version": version}
        if not any(kind == "start" for kind, *_ in self.futures.values()):
            self.r.stats.startup_s = time.perf_counter() - self.started_at
            log.info("all workers loaded after %.1f s", self.r.stats.startup_s)

    def _on_prepare(self, ref, sid: str, item: InputItem, audio_ref, actor, slot: Slot) -> None:
        del self.prepare_started[ref]
        self.preparers.append((actor, slot))
        self._count_task(actor)
        try:
            prepared: PreparedRecording = self.ray.get(ref)
        except Exception as e:  # the actor process died (killed, OOM) more often than it may retry
            prepared = _system_failure(item, "prepare", e)
        self._add_prepared(sid, item, audio_ref, prepared)

    def _add_prepared(self, sid: str, item: InputItem, audio_ref, prepared: PreparedRecording) -> None:
        shard = self.shards[sid]
        branches = list(self.branches)
        rows: dict[str, list] = {b: [] for b in self.branches}
        kept = shard.kept.get(item.recording_id)
        if kept is not None:  # a partial redo: the stored recording, its kept rows, and only the redone branches
            prepared = _with_stored(kept, prepared)
            branches = [b for b in branches if b in kept.redo]
            rows = {**kept.rows, **{b: [] for b in shard.work.branches()}}
        state = RecordingState(prepared, AudioRef(item.recording_id, audio_ref), 0, rows)
        shard.recordings[item.recording_id] = state
        for name in branches:
            items = work_items(prepared, name)
            self.pending[name].extend((w, state.audio) for w in items)
            state.pending += len(items)
            self.r.stats.branch_items[name] = self.r.stats.branch_items.get(name, 0) + len(items)
        if state.pending == 0:
            self._recording_finished(shard, state)

    def _on_annotate(self, ref, branch: str, actor, items: list[WorkItem]) -> None:
        self.idle[branch].append(actor)
        self._count_task(actor)
        try:
            outcome: BatchOutcome = self.ray.get(ref)
        except Exception as e:  # the actor died more often than it may restart
            outcome = BatchOutcome(errors=[_item_error(w, f"annotate:{branch}", e) for w in items], items=len(items))
        self.r.stats.model_s[branch] = self.r.stats.model_s.get(branch, 0.0) + outcome.model_s
        by_rec: dict[str, RecordingState] = {}
        for w in items:
            by_rec[w.recording_id] = self._state(w.recording_id)
        for row in outcome.rows:
            by_rec[row.recording_id].rows[branch].append(row)
        for err in outcome.errors:
            by_rec[err.recording_id].errors.append(err)
        for w in items:
            state = by_rec[w.recording_id]
            state.pending -= 1
            if state.pending == 0:
                self._recording_finished(self._shard_of(w.recording_id), state)

    def _on_merge(self, ref, sid: str) -> None:
        shard = self.shards.pop(sid)
        states = list(shard.recordings.values())
        try:
            merged = self.ray.get(ref)
        except Exception as e:
            log.error("merging shard %s failed: %s", sid, e)
            merged = None
        tables = _tables(states, merged, sid)
        stats = {"recordings": len(states), **{t: len(v) for t, v in tables.items()}, "stages": self.r.stages,
                 "members": members_hash(it.recording_id for it in shard.items)}
        if self.r.lock is not None:
            self.r.lock.check()  # a lease lost to another run: stop before writing over its output
        write_shard(self.r.out, sid, tables, stats, None if shard.work.full else _tables_of(shard.work))
        self.r.stats.shards_written += 1
        self.r.stats.errors += len(tables["errors"])
        if shard.work.full or "merge" in shard.work.stages:
            for row in tables["sft"]:
                self.r.stats.sft_tasks[row.task] = self.r.stats.sft_tasks.get(row.task, 0) + 1

    # ---- bookkeeping ----------------------------------------------------------------------------------
    def _count_task(self, actor) -> None:
        node = self.node_of.get(id(actor), ("?", ""))[0]
        self.tasks_by_node[node] = self.tasks_by_node.get(node, 0) + 1

    def node_report(self) -> list[dict]:
        """run.json's `nodes`: every node that did work, what it has, its workers by kind, tasks it ran."""
        report = []
        for n in self.placement.nodes:
            if not self.tasks_by_node.get(n.node_id):
                continue
            kinds = [kind for node, kind in self.node_of.values() if node == n.node_id]
            workers = {k: kinds.count(k) for k in sorted(set(kinds))}
            report.append({"node_id": n.node_id, "address": n.address, "cpus": n.cpus, "gpus": n.gpus,
                           "workers": workers, "tasks": self.tasks_by_node[n.node_id]})
        return report

    def _state(self, recording_id: str) -> RecordingState:
        return self._shard_of(recording_id).recordings[recording_id]

    def _shard_of(self, recording_id: str) -> ShardState:
        return self.shards[self.shard_of_recording[recording_id]]

    def _recording_finished(self, shard: ShardState, state: RecordingState) -> None:
        state.audio = None  # drop the reference: the object store may free the samples now
        self.in_window -= 1
        shard.finished += 1
        self.r.stats.add_recording(state.prepared.recording, state.prepared.timings)
        self.r.progress.recording_done(state.prepared.recording)
        if shard.finished == len(shard.items) and not shard.merging:
            shard.merging = True
            outputs = [_outputs(s) for s in shard.recordings.values() if s.prepared.recording.status != "error"]
            self.futures[self.merger.merge.remote(outputs)] = ("merge", shard.shard_id)


def _outputs(state: RecordingState):
    from merge.outputs import RecordingOutputs

    sort = lambda rows: sorted(rows, key=lambda r: (r.start_s, r.end_s))  # noqa: E731
    return RecordingOutputs(
        recording=state.prepared.recording,
        segments=state.prepared.segments,
        speech=sort(state.rows.get("speech", [])),
        music=sort(state.rows.get("music", [])),
        sound=sort(state.rows.get("sound", [])),
    )


def _tables(states: list[RecordingState], merged: list | None, sid: str) -> dict[str, list]:
    tables: dict[str, list] = {t: [] for t in ("recordings", "segments", "speech", "music", "sound", "captions", "sft", "errors")}
    merged_iter = iter(merged or [])
    for s in states:
        p = s.prepared
        tables["recordings"].append(p.recording)
        tables["segments"].extend(p.segments)
        for branch in ("speech", "music", "sound"):
            tables[branch].extend(sorted(s.rows.get(branch, []), key=lambda r: r.start_s))
        tables["errors"].extend(p.errors + s.errors)
        if p.recording.status == "error":
            continue
        if merged is None:
            tables["errors"].append(ErrorRow(p.item.recording_id, p.item.uri, "merge", "MergeFailed", f"merge of shard {sid} failed"))
            continue
        result = next(merged_iter)
        if isinstance(result, Exception):
            tables["errors"].append(ErrorRow(p.item.recording_id, p.item.uri, "merge", type(result).__name__, str(result) or repr(result)))
            continue
        caption, sft = result
        tables["captions"].append(caption)
        tables["sft"].extend(sft)
    return tables


def _system_failure(item: InputItem, stage: str, exc: BaseException) -> PreparedRecording:
    from schemas.recordings import RecordingRow

    log.warning("%s: %s failed: %s: %s", item.uri, stage, type(exc).__name__, one_line(exc))
    err = ErrorRow(item.recording_id, item.uri, stage, type(exc).__name__, one_line(exc))
    rec = RecordingRow(recording_id=item.recording_id, uri=item.uri, status="error", error=f"{stage}: {err.message}")
    return PreparedRecording(item, rec, errors=[err])


def _timeout_failure(item: InputItem, limit_s: float) -> PreparedRecording:
    from schemas.recordings import RecordingRow

    msg = f"decode + segment did not finish within runtime.recording_timeout_s={limit_s:g} s; task cancelled"
    err = ErrorRow(item.recording_id, item.uri, "prepare", "Timeout", msg)
    rec = RecordingRow(recording_id=item.recording_id, uri=item.uri, status="error", error=f"prepare: {msg}")
    return PreparedRecording(item, rec, errors=[err])


def _load_failed(what: str, exc: BaseException) -> PlacementError:
    """One line for a worker whose setup raised: the original `Type: message` inside the Ray error's text
    (which holds the remote traceback)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    causes = [line for line in lines if re.match(r"^[A-Za-z_.]*(Error|Exception)\b.*:", line)]
    cause = causes[-1] if causes else (lines[0] if lines else repr(exc))
    return PlacementError(f"{what} workers failed to load: {cause}")


def _branches_needed(cfg: PipelineConfig, todo: Todo) -> set[str]:
    """Enabled branches some shard must compute: every one for a new shard, the redone ones for the rest."""
    enabled = set(cfg.enabled_branches())
    needed: set[str] = set()
    for work, _ in todo:
        needed |= enabled if work.full else (work.branches() & enabled)
    return needed


def _tables_of(work: ShardWork) -> set[str]:
    """The tables a partial redo rewrites: those of its stages, and errors (which holds rows of every stage)."""
    return {t for s in work.stages for t in STAGE_TABLES.get(s, ())} | {"errors"}


def _with_stored(kept: KeptRecording, fresh: PreparedRecording) -> PreparedRecording:
    """The stored recording and segments (a redo never changes them) with what only a fresh prepare knows:
    the speaker turns. A file that can no longer be decoded gets an error row per branch it was to redo."""
    from dataclasses import replace

    stored = kept.prepared
    if fresh is stored:  # nothing was recomputed
        return stored
    if fresh.recording.status == "error":
        errors = [ErrorRow(stored.item.recording_id, stored.item.uri, f"annotate:{b}", "RedoFailed",
                           f"cannot be redone: {fresh.recording.error}") for b in sorted(kept.redo)]
        kept.redo = frozenset()
        return replace(stored, errors=[*stored.errors, *errors])
    return replace(stored, speaker_turns=fresh.speaker_turns, timings=fresh.timings)


def _annotator_class(key: str):
    from annotators.registry import ANNOTATORS

    return ANNOTATORS.get(key)


def _end_of_recording(queue: deque, n: int) -> int:
    """Grow a batch of the first n queued items to the end of the last recording it holds (a recording's
    items are queued together), so that an annotator sees every segment of each of its recordings."""
    last = queue[n - 1][0].recording_id
    while n < len(queue) and queue[n][0].recording_id == last:
        n += 1
    return n


def _item_error(w: WorkItem, stage: str, exc: BaseException) -> ErrorRow:
    return ErrorRow(w.recording_id, w.uri, stage, type(exc).__name__, one_line(exc), w.segment.segment_id)
