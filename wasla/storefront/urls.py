from django.urls import path

from . import views

urlpatterns = [
    path("<slug:slug>/", views.store_home, name="store-home"),
    path("<slug:slug>/products/<int:product_id>/", views.product_checkout, name="store-product"),
]
