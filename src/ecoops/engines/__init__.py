"""Pure, columnar engines (DuckDB over Arrow): no ORM, no HTTP, testable against plain computations."""
