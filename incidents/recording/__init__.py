"""Recording incidents and victims: the form, the workflow, history and duplicates."""
