"""`python -m backprop_lab` is the same as the `backprop-lab` command."""

from backprop_lab.server.cli import main

if __name__ == "__main__":
    main()
