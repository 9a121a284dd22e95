"""capdb: the database of crimes against UN peacekeepers."""
