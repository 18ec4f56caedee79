from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TenantsConfig(AppConfig):
    name = "wasla.tenants"
    label = "tenants"

    def ready(self) -> None:
        from .rls import apply_after_migrate

        # Once per migrate (this app's signal), after every app's tables exist.
        post_migrate.connect(apply_after_migrate, sender=self, dispatch_uid="wasla_rls_apply")
