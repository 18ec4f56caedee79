"""Stateful simulator of the PayPal REST API subset for Orders v2 checkout, with its webhooks."""
