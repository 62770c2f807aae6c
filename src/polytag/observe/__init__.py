"""Observability: Prometheus metrics (`metrics`), request lines and log formats (`requests`,
`logs`). Imported by module: the CLI needs `logs` without the web stack."""
