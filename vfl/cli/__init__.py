"""The ``vfl`` command line: a thin layer over the library."""
