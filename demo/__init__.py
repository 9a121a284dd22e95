"""Demo data for trying capdb out; not part of the product."""
