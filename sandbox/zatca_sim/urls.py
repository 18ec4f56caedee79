"""ZATCA's e-invoicing API at the developer portal's paths, and the simulator's controls."""

from django.urls import path, re_path

from sandbox.zatca_sim import views

app_name = "sandbox_zatca"

_API = r"^e-invoicing/developer-portal/"

# ZATCA's paths have no trailing slash; both spellings work.
urlpatterns = [
    re_path(_API + r"compliance/?$", views.compliance_csid_api, name="compliance"),
    re_path(
        _API + r"compliance/invoices/?$", views.compliance_invoices_api, name="compliance-invoices"
    ),
    re_path(_API + r"production/csids/?$", views.production_csid_api, name="production-csids"),
    re_path(_API + r"invoices/clearance/single/?$", views.clearance_api, name="clearance"),
    re_path(_API + r"invoices/reporting/single/?$", views.reporting_api, name="reporting"),
    path("_control/", views.control_api, name="control"),
    path("_control/ca", views.control_ca_api, name="control-ca"),
]
