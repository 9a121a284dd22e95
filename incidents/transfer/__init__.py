"""Moving data in and out: spreadsheet import, exports and the printable dossiers."""
