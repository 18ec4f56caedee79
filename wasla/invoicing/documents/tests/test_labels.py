"""Every printed label has its Arabic, and the template cannot print one that has none."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation

from wasla.invoicing.documents.labels import LABELS

_ARABIC = re.compile("[\u0600-\u06ff]")


@pytest.mark.parametrize("msgid", sorted(LABELS))
def test_each_label_has_an_arabic_translation(msgid: str) -> None:
    with translation.override("ar"):
        arabic = translation.gettext(msgid)
    assert arabic != msgid
    assert _ARABIC.search(arabic)


def test_label_tag_prints_both_languages_and_refuses_unknown_labels() -> None:
    template = Template(
        '{% load invoice_document %}{% label "Seller" "en" %}|{% label "Seller" "ar" %}'
    )
    with translation.override("fr"):
        assert template.render(Context()) == "Seller|البائع"
    with pytest.raises(TemplateSyntaxError, match="not a document label"):
        Template('{% load invoice_document %}{% label "Sellr" "ar" %}').render(Context())
