"""Stateful simulator of the Tap Payments v2 charges API, its hosted page and its webhooks."""
