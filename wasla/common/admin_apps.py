"""django.contrib.admin with the staff site (second factor) as `admin.site`: see admin_site.py.
Apart from it because an AppConfig module is imported before the models are ready."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "wasla.common.admin_site.StaffAdminSite"
