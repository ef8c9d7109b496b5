"""The project's own Python package: settings, operations tooling and, later, the billing
backend, the channels and the support console, each in a subpackage."""
