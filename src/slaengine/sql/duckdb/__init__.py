"""The DuckDB engine: the compiled SQL run on an embedded DuckDB over a lead file, giving the
Python engine's records, CSV lines and KPIs."""
