"""A large file's rows read and checked in a second process while this one loads the records.

Reading and checking the cells (the `csv` module, then whole columns at a time) and loading the records
into the stage (the database's bulk path) each take about a third of a large import, one after the
other on one core. Here a child process reads the file and builds the batches (`RecordBuilder.
build_batch`, the same code the single-process path runs) and sends each one through a pipe, while
this process loads the one before: the second core does the reading.

The child is forked from multiprocessing's fork server (started once per process, itself with no
threads), never from this process, which may run web requests and the worker's threads. The pipe
holds about one batch: a child ahead of the loading waits for it, so memory stays bounded. Whatever
the child raises (a file refused half-way, `ImportFileError`) is raised again here; a child that dies
without a word is an error naming the file; leaving early (an error in the loading) stops the child.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from ecoops.crm.imports.formats import Mapping
from ecoops.crm.imports.reader import CsvRows, FileFacts
from ecoops.crm.imports.records import Batch, RecordBuilder, Workspace, batches, cyclic_gc_paused
from ecoops.crm.imports.values import DateOrder

READ_AHEAD_MIN_BYTES = 32 * 1024 * 1024  # smaller files are read in this process: a child costs more


class ReadAhead:
    """A file's record batches, read in a child process (`run_import` passes it instead of lines)."""

    def __init__(
        self, facts: FileFacts, header: list[str], progress: Callable[[int], None] | None = None
    ) -> None:
        self.facts = facts
        self.header = header
        self.progress = progress  # told the bytes read so far
        self.process: Any = None  # the child, once started

    def batches(self, builder: RecordBuilder) -> Iterator[tuple[int, Batch]]:
        """The batches `builder`'s kind makes of the file (`records.batches`), each with its number of
        rows, built by an equal builder in the child."""
        for rows, bytes_read, batch in self._received(builder):
            if self.progress is not None:
                self.progress(bytes_read)
            yield rows, batch
        if self.progress is not None:
            self.progress(self.facts.size)

    def _received(self, builder: RecordBuilder) -> Iterator[tuple[int, int, Batch]]:
        context = multiprocessing.get_context("forkserver")
        receiving, sending = context.Pipe(duplex=False)
        recipe = (type(builder), builder.mapping, self.header, builder.workspace, builder.dates.order)
        self.process = context.Process(
            target=_read, args=(self.facts, recipe, sending), name="ecoops-import-reader", daemon=True
        )
        self.process.start()
        sending.close()  # the child holds the only sending end: its exit ends `recv` with EOFError
        try:
            while True:
                try:
                    kind, payload = receiving.recv()
                except EOFError:
                    self.process.join()
                    raise RuntimeError(
                        f"{self.facts.filename}: the process reading the file ended without finishing "
                        f"(exit code {self.process.exitcode})"
                    ) from None
                if kind == "end":
                    return
                if kind == "error":
                    raise payload
                yield payload
        finally:
            receiving.close()
            if self.process.is_alive():
                self.process.terminate()
            self.process.join()


def _read(
    facts: FileFacts,
    recipe: tuple[type[RecordBuilder], Mapping, list[str], Workspace, DateOrder],
    sending: Connection,
) -> None:
    """The child: read the file, build its batches and send each; then "end", or the error met."""
    kind, mapping, header, workspace, order = recipe
    try:
        with CsvRows(facts) as rows, cyclic_gc_paused():
            builder = kind(mapping, header, workspace, order)
            for count, batch in batches(builder, rows):
                sending.send(("read", (count, rows.bytes_read, batch)))
        sending.send(("end", None))
    except Exception as exc:  # raised again in the parent, which reports it
        sending.send(("error", exc))
    finally:
        sending.close()
