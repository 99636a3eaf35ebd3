"""Progress of `triage ingest`: a live bar on a terminal, plain periodic lines otherwise.

A redirected or piped stderr (a log file, CI, `make demo > log`) cannot show a bar that
redraws in place; without lines it would stay silent for the whole embedding run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ingest.sync_report import ProgressCallback, SyncProgress

# Often enough to show a long run is alive, rarely enough to keep a log readable.
LINE_EVERY_SECONDS = 10.0


@contextmanager
def ingest_progress(console: Console, *, transient: bool) -> Iterator[ProgressCallback]:
    """Yield the callback the synchroniser reports to, drawn as suits `console`."""
    if not console.is_terminal:

        def emit(line: str) -> None:
            console.file.write(line + "\n")
            console.file.flush()

        lines = PlainLines(emit)
        yield lines
        lines.finish()
        return
    with Progress(
        TextColumn("[bold]ingest[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files  {task.fields[chunks]} chunks  {task.fields[rate]:.0f} emb/s"),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    ) as bar:
        task = bar.add_task("ingest", total=None, chunks=0, rate=0.0)

        def on_progress(p: SyncProgress) -> None:
            bar.update(
                task,
                total=p.files_total,
                completed=p.files_done,
                chunks=p.chunks_written,
                rate=p.embeddings_per_second,
            )

        yield on_progress


class PlainLines:
    """One line at the first report, then at most one every `every` seconds, and one at
    the end: files done of total, chunks written, embeddings and their rate, ETA."""

    def __init__(
        self,
        emit: Callable[[str], None],
        *,
        every: float = LINE_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._emit = emit
        self._every = every
        self._clock = clock
        self._last_line: float | None = None
        self._latest: SyncProgress | None = None
        self._printed: tuple[int, ...] | None = None

    def __call__(self, progress: SyncProgress) -> None:
        self._latest = progress
        now = self._clock()
        if self._last_line is None or now - self._last_line >= self._every:
            self._last_line = now
            self._print(progress)

    def finish(self) -> None:
        # The end state once, even when it came less than `every` after the last line.
        if self._latest is not None and _counts(self._latest) != self._printed:
            self._print(self._latest)

    def _print(self, progress: SyncProgress) -> None:
        self._printed = _counts(progress)
        self._emit(self.line(progress))

    def line(self, p: SyncProgress) -> str:
        # Elapsed time and rate from the injected clock (same time base as `p.started`,
        # time.monotonic by default), so every figure on a line comes from one reading.
        elapsed = max(self._clock() - p.started, 0.0)
        rate = p.embeddings_computed / elapsed if elapsed > 0 else 0.0
        eta = ""
        if 0 < p.files_done < p.files_total:
            eta = f", ETA {elapsed / p.files_done * (p.files_total - p.files_done):.0f}s"
        return (
            f"ingest: {p.files_done}/{p.files_total} files, {p.chunks_written} chunks, "
            f"{p.embeddings_computed} embeddings ({rate:.0f} emb/s), "
            f"{elapsed:.0f}s elapsed{eta}"
        )


def _counts(p: SyncProgress) -> tuple[int, ...]:
    return (p.files_total, p.files_done, p.chunks_written, p.embeddings_computed)
