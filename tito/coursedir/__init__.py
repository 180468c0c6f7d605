"""tito's side of nbgrader: its configuration and course paths, its converters, the
student version of a notebook, the gradebook database and what may enter from a
student's submitted folder."""
