"""One submission in, one outcome out: the setup shared by a module's submissions, the
engine (nbgrader's Autograde with tito's steps), the clean room, the verdict (score,
reasons, flags), the report, and the feedback page."""
