"""Reference layers are named in the reader's language, not in German for everyone but
English readers (the names come from the catalogues, with English as their source)."""

import pytest
from django.utils import translation

from geodata.layers import LAYERS
from geodata.models import Layer


@pytest.mark.parametrize(
    ("language", "name"),
    [
        ("de", "Bahnhöfe"),
        ("en", "Railway stations"),
        ("nl", "Treinstations"),
        ("pl", "Dworce kolejowe"),
        ("tr", "Tren istasyonları"),
        ("zh-hans", "火车站"),
    ],
)
def test_the_stations_layer_is_named_in_each_language(db, language, name):
    layer = Layer.objects.get(slug="stations")
    spec = next(spec for spec in LAYERS if spec.slug == "stations")
    with translation.override(language):
        assert layer.name == name
        assert spec.name == name


def test_every_layer_has_a_name_of_its_own_in_every_language(db):
    for language in ("nl", "pl", "tr", "zh-hans"):
        with translation.override(language):
            names = [layer.name for layer in Layer.objects.all()]
        german = {layer.name_de for layer in Layer.objects.all()}
        english = {layer.name_en for layer in Layer.objects.all()}
        assert not (set(names) & (german | english)), language
