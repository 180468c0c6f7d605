"""The course model: where things are in a checkout, its modules, their notebooks and
the markers they are written with, their exported code, and a student's progress."""
