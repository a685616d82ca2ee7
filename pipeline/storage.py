"""Where a run's output lives: a local folder or any fsspec URL (s3://, gs://, ...), behind one small interface.

Local folders keep write-to-a-temp-file-then-rename. Object stores have no rename, but one PUT (or a
completed multipart upload) makes an object appear whole or not at all, so every object is written complete
in one call, and the writer puts each shard's done marker last: readers never see half a table on either.
Credentials and endpoints come from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...) or from
`storage_options` (passed to fsspec as is)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOCAL_PROTOCOLS = ("", "file", "local")


def protocol_of(location: str) -> str:
    return location.split("://", 1)[0].lower() if "://" in location else ""


def is_remote(location: str | Path) -> bool:
    return protocol_of(str(location)) not in LOCAL_PROTOCOLS


def backend_problem(location: str) -> str | None:
    """Why fsspec cannot open this URL here (an unknown protocol, or its package is not installed), or None."""
    if not is_remote(location):
        return None
    import fsspec
    from fsspec.registry import known_implementations

    protocol = protocol_of(location)
    try:
        fsspec.get_filesystem_class(protocol)
    except ImportError:
        hint = {"s3": "moss-annotate[s3]", "gs": "moss-annotate[gcs]", "gcs": "moss-annotate[gcs]"}.get(protocol)
        need = known_implementations.get(protocol, {}).get("err") or f"the package for {protocol}://"
        return f"{protocol}:// needs an fsspec backend that is not installed ({need})" + (f"; pip install {hint}" if hint else "")
    except ValueError:
        return f"unknown storage protocol {protocol}:// (fsspec has no backend for it)"
    return None


def as_store(location: Store | Path | str) -> Store:
    """A Store as is; a path or URL (no storage options: the environment's credentials) as a Store."""
    return location if isinstance(location, Store) else Store(location)


class Store:
    """A folder: local (a path) or remote (an fsspec URL). Names inside it are '/'-joined parts."""

    def __init__(self, location: str | Path, options: Mapping[str, Any] | None = None):
        self.url = str(location)
        self.remote = is_remote(self.url)
        if self.remote:
            import fsspec

            self.fs, self.root = fsspec.core.url_to_fs(self.url, **(options or {}))
            self.fs.invalidate_cache()  # fsspec shares instances per process: drop listings another process made stale
            self.root = self.root.rstrip("/")
        else:
            from fsspec.implementations.local import LocalFileSystem

            self.fs = LocalFileSystem()
            self.root = str(Path(self.url.removeprefix("file://")))

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def local_path(self) -> Path:
        """The folder on this machine (local stores only)."""
        if self.remote:
            raise ValueError(f"{self.url} is not a local folder")
        return Path(self.root)

    def path(self, *parts: str) -> str:
        """The backend's path of a name inside the store (what `fs` methods take)."""
        return "/".join([self.root, *parts]) if parts else self.root

    # ---- reads ----------------------------------------------------------------------------------------
    def exists(self, *parts: str) -> bool:
        return self.fs.exists(self.path(*parts))

    def is_file(self, *parts: str) -> bool:
        return self.fs.isfile(self.path(*parts))

    def read_bytes(self, *parts: str) -> bytes:
        return self.fs.cat_file(self.path(*parts))

    def names(self, *parts: str) -> list[str]:
        """Entry names directly under a folder ([] when it does not exist)."""
        try:
            return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(self.path(*parts), detail=False))
        except FileNotFoundError:
            return []

    # ---- writes ---------------------------------------------------------------------------------------
    def write_bytes(self, *parts: str, data: bytes) -> None:
        """Appears complete or not at all: locally a hidden temp file renamed over the name, remotely one PUT."""
        if self.remote:
            self.fs.pipe_file(self.path(*parts), data)
            return
        path = Path(self.path(*parts))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def create_exclusive(self, *parts: str, data: bytes) -> bool:
        """Write only if the name does not exist yet (S3's If-None-Match: *); False if it does. Raises
        NotImplementedError where the store cannot do this atomically."""
        if not self.remote:
            path = Path(self.path(*parts))
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return True
        try:
            self.fs.pipe_file(self.path(*parts), data, mode="create")
        except FileExistsError:
            return False
        except TypeError as err:  # a backend whose pipe_file has no `mode`
            raise NotImplementedError(f"{self.fs.protocol} cannot create objects exclusively") from err
        except OSError as err:
            if "PreconditionFailed" in str(err) or "412" in str(err):
                return False
            raise
        return True

    def makedirs(self, *parts: str) -> None:
        if not self.remote:  # object stores have no folders: a name's prefix exists once an object is under it
            Path(self.path(*parts)).mkdir(parents=True, exist_ok=True)

    def remove(self, *parts: str, recursive: bool = False) -> None:
        """Remove a name (and everything under it with `recursive`); a missing name is not an error."""
        try:
            self.fs.rm(self.path(*parts), recursive=recursive)
        except FileNotFoundError:
            pass
