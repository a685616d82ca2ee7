"""Typed records and the explicit pyarrow schema of every output table."""

from schemas.tables import SCHEMA_VERSION, TABLES, TableSpec, from_arrow, to_arrow

__all__ = ["SCHEMA_VERSION", "TABLES", "TableSpec", "from_arrow", "to_arrow"]
