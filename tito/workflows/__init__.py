"""One use case each, as a library function the CLI calls: a student's (start, test,
complete, reset), the course build, the doctor; `instructor/` holds the instructor's."""
