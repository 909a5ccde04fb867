"""The dashboards' cache: engine inputs and finished figures, kept while the records they read are unchanged.

Every figure is a pure function of the stored records, the rules in force and the query, so a result can be
reused for as long as those records have not changed. A cache key therefore starts with the data version
(`ecoops.data_version`): one number every transaction that changes these records moves
at commit, seen by every process, and this process's generation for its own changes not yet committed.

Entries live in bounded least-recently-used maps in this process; nothing is written anywhere. A missing
entry is computed by one request while the others that want it wait for it (on two cores, eight people
opening dashboards after a change would otherwise compute the same inputs eight times at once).
"""

from __future__ import annotations

import threading
from typing import Any

from ecoops.lru import LRU

# Set while this process's warming thread runs (metrics/warm.py): only then may readers be given records
# read a moment ago (service.cached_inputs), for only then does something read the new ones.
WARMING = threading.Event()

# Inputs are the big entries (a large workspace's records); figures are small tables; records sit between.
INPUTS: LRU[Any] = LRU(2)
FIGURES: LRU[Any] = LRU(256)
RECORDS: LRU[Any] = LRU(16)
# The filter form's partners, programs, tiers and types: read on every dashboard page, 500 partners' names.
CHOICES: LRU[Any] = LRU(4)  # metrics.service.FilterOptions, its managers left out
