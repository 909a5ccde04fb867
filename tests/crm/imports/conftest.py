"""`either_reading`: a test run twice, the file read in the importing process and read ahead by a second
process (crm/imports/read_ahead.py, which only files of 32 MiB and more take otherwise)."""

import pytest

from ecoops.crm.imports import read_ahead, service


@pytest.fixture(params=["in process", "read ahead"])
def either_reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The batches read ahead during the test (none when read in process)."""
    seen: list[object] = []
    if request.param == "read ahead":
        monkeypatch.setattr(service, "READ_AHEAD_MIN_BYTES", 0)
        original = read_ahead.ReadAhead.batches

        def counted(self, builder):
            for item in original(self, builder):
                seen.append(item)
                yield item

        monkeypatch.setattr(read_ahead.ReadAhead, "batches", counted)
    return seen
