"""Business rules as dated data (policy.yml) and the one module that reads them (engine.py)."""
