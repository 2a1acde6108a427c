"""`python -m server` is the same as the `backprop-lab` command."""

from server.cli import main

if __name__ == "__main__":
    main()
