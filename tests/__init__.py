"""The test suite, a package so every module imports its helpers one way: ``from tests.support.<module> import …``."""
