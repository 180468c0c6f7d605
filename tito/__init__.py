"""tito: the TinyTorch course tool (student, instructor and build commands)."""
