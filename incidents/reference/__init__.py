"""Reference data that admins keep: missions, vocabularies and countries, through pages,
the API and the command line."""
