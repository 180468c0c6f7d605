"""Files that run inside the sandbox, copied into its site folder: standard library only,
and nothing imports them on the host."""
