import sys

try:
    from tito.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while tito is still starting
    sys.exit(130)

raise SystemExit(main())
