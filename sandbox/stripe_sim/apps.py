from django.apps import AppConfig


class StripeSimConfig(AppConfig):
    name = "sandbox.stripe_sim"
    label = "sandbox_stripe"
