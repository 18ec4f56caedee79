"""The webhook inbox: verify on the raw bytes, store once, answer fast, then process.

Ingestion needs only PostgreSQL. Every delivery becomes a `WebhookEvent` row: rejected ones (bad
signature, or signed but unusable) for the audit trail, verified ones exactly once per
(provider, gateway config, event id), so concurrent duplicates collapse into one row and one
processing. Processing then turns each stored event into its effect exactly once, however many
times it is queued, and a try that cannot finish is retried from the table, not from Celery.

One module per job:
- `views`: HTTP only — resolve the gateway by the URL's token, verify, store, answer;
- `inbox`: verify and store a delivery, queue it once the row is committed;
- `tasks`: the Celery task that processes one event, and the helper that queues it;
- `processing`: load the event, run its handler in one transaction holding the event's row;
- `handlers`: the explicit table from event kind to the function that applies it;
- `outcomes` and `retry`: how a try ends (done, retried later, given up) and when it is retried;
- `sweep`: the sweeper that re-drives what is due, and staff replay.

Import from the module that does the job (`webhooks.sweep`, `webhooks.processing`, …).
"""
