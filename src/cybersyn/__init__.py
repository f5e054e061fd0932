"""cybersyn: democratic economic planning and workers' control."""

__version__ = "0.1.0"
