"""``python -m benchbench`` is the ``bench`` command."""

from benchbench.cli import main

if __name__ == "__main__":
    main()
