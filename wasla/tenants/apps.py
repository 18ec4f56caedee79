from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "wasla.tenants"
    label = "tenants"
    verbose_name = _("Tenants")

    def ready(self) -> None:
        from wasla.common.db.scope import database_scope_source_set
        from wasla.common.observability.logs import log_context_source_add

        from .context import current_scope
        from .rls import apply_after_migrate

        # The database backend applies the scope this app keeps (row-level security).
        database_scope_source_set(current_scope)
        # Every log line names the tenant of the scope it was written in.
        log_context_source_add(lambda: {"tenant": getattr(current_scope(), "tenant_id", None)})

        # Once per migrate (this app's signal), after every app's tables exist.
        post_migrate.connect(apply_after_migrate, sender=self, dispatch_uid="wasla_rls_apply")
