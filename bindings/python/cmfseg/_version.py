# The package's version: the library's (cmf_version()), which a test keeps it equal to.
__version__ = "0.1.0"
