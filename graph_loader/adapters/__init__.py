"""One module per data source."""
