"""SQL over Arrow: a projection split across cores gives back every row, in the order it came."""

import pyarrow as pa

from ecoops.engines.matching import registrable_domains
from ecoops.engines.matching.relations import project, query


def test_a_split_projection_keeps_every_row_in_order():
    n = 200_003  # above the split threshold, and not a multiple of the core count
    table = pa.table({"value": pa.array(range(n), pa.int64())})
    result = project("SELECT value * 2 AS doubled FROM input", "input", table)
    assert result.column("doubled").to_pylist() == [2 * i for i in range(n)]


def test_a_large_column_of_domains_matches_row_by_row():
    hosts = [f"https://www.company{i}.{'co.uk' if i % 3 else 'com'}/x" for i in range(120_000)]
    expected = [f"company{i}.{'co.uk' if i % 3 else 'com'}" for i in range(120_000)]
    assert registrable_domains(pa.array(hosts)).to_pylist() == expected


def test_query_sees_each_table_by_its_name():
    left = pa.table({"k": [1, 2, 3]})
    right = pa.table({"k": [2, 3, 4]})
    joined = query("SELECT k FROM a JOIN b USING (k) ORDER BY k", a=left, b=right)
    assert joined.column("k").to_pylist() == [2, 3]
