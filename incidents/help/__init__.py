"""Help: a short page per role on the workflow, the statuses and stages, who sees what (drawn
from the access rule itself) and how to report progress."""
