"""Local simulators of the provider APIs (Tap, Stripe, PayPal), for the demo and the tests.

Each simulator is its own app (`tap_sim`, `stripe_sim`, `paypal_sim`); this package holds only
what they share and the URL include. The product reaches them over HTTP only.
"""
