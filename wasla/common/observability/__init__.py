"""Observability: structured logs (`logs`), Prometheus metrics (`metrics`, served by `views`),
error reports to Sentry (`sentry`) and the context carried into Celery tasks (`celery_context`).
Only `common` lives here; the apps above call these small functions (one line at each place
they are measured) and add what needs their models through the hooks (`log_context_source_add`,
`scrape_collector_add`)."""
