"""The portal's settings pages: gateways, API tokens, team.

Names start with gateway / token / team so the side nav highlights the section."""

from django.urls import URLPattern, path

from . import gateways, team, tokens

urlpatterns: list[URLPattern] = [
    path("gateways/", gateways.gateway_list, name="gateways"),
    path("gateways/connect/", gateways.gateway_connect, name="gateway_connect"),
    path("gateways/<int:config_id>/", gateways.gateway_edit, name="gateway_edit"),
    path("gateways/<int:config_id>/test/", gateways.gateway_test, name="gateway_test"),
    path("gateways/<int:config_id>/activate/", gateways.gateway_activate, name="gateway_activate"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/new/", tokens.token_create, name="token_create"),
    path("tokens/<int:token_id>/created/", tokens.token_created, name="token_created"),
    path("tokens/<int:token_id>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("team/", team.team_list, name="team"),
    path("team/invite/", team.team_invite, name="team_invite"),
    path("team/<int:member_id>/", team.team_member, name="team_member"),
    path("team/<int:member_id>/remove/", team.team_remove, name="team_remove"),
]
