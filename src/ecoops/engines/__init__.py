"""Pure, columnar engines (DuckDB over Arrow): no ORM, no HTTP, testable against plain computations."""

import importlib

# numpy asks the kernel for transparent huge pages on every array of 4 MB or more. Where the kernel's THP
# defrag setting is `madvise` (Debian's default), the first touch of such an array can then compact memory
# synchronously: on the 2-core machine a million-record matching run spent about a fifth of its time in
# the kernel for it (docs/mapping.md). The engines churn through large short-lived arrays, so plain pages
# are faster. `_set_madvise_hugepage` is numpy's own switch for this (its NUMPY_MADVISE_HUGEPAGE variable
# is read only when numpy is first imported).
_set_madvise_hugepage = getattr(
    importlib.import_module("numpy._core.multiarray"), "_set_madvise_hugepage", None
)
if _set_madvise_hugepage is not None:
    _set_madvise_hugepage(False)
