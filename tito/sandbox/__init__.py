"""Running untrusted code: the bwrap command and run, resource limits, the site folder the
sandbox sees, and the sandboxed Jupyter kernel; `inside/` holds what runs in there."""
