"""The command line: argument parsing and presentation only; each command calls one
library function of tito.workflows."""
