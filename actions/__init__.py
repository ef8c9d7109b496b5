"""Custom actions of the assistant, one module per capability.

`rasa run actions --actions actions` imports every submodule of this package.
"""
