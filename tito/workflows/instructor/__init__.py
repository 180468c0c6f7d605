"""The instructor's use cases: generate, autograde (locally or on Dask), feedback and
grade export of an assignment, recording in the gradebook, and the student edition. None
of it ships in the student edition."""
