"""One module per finding type. Adding a finding type = one module here (METADATA + rule) and its tests."""
