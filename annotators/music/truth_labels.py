"""Corpus truth instrument names (General MIDI style) -> AudioSet names that count as naming them.

Evaluation only. Matching is by keyword in the GM name, so unseen names of the same family map too;
recorded ensembles without an instrument list map to nothing (not scored).
"""

from __future__ import annotations

KEYWORD_TO_AUDIOSET: tuple[tuple[str, frozenset[str]], ...] = tuple((k, frozenset(v)) for k, v in (
    ("harpsichord", {"Harpsichord", "Keyboard (musical)"}),
    ("organ", {"Organ", "Electronic organ", "Hammond organ", "Keyboard (musical)"}),
    ("piano", {"Piano", "Electric piano", "Keyboard (musical)"}),
    ("clavi", {"Keyboard (musical)", "Harpsichord", "Electric piano"}),
    ("bass", {"Bass guitar", "Double bass"}),  # before "guitar": acoustic_bass, electric_bass_finger
    ("guitar", {"Guitar", "Acoustic guitar", "Electric guitar", "Plucked string instrument", "Strum",
                "Steel guitar, slide guitar"}),
    ("drum", {"Drum kit", "Drum", "Snare drum", "Bass drum", "Hi-hat", "Cymbal", "Drum machine", "Percussion"}),
    ("percussion", {"Percussion", "Drum", "Drum kit"}),
    ("timpani", {"Timpani", "Drum", "Percussion"}),
    ("pizzicato", {"Pizzicato", "String section", "Violin, fiddle", "Bowed string instrument"}),
    ("string", {"String section", "Violin, fiddle", "Cello", "Double bass", "Bowed string instrument",
                "Orchestra", "Pizzicato"}),
    ("violin", {"Violin, fiddle", "String section", "Bowed string instrument"}),
    ("fiddle", {"Violin, fiddle", "String section", "Bowed string instrument"}),
    ("viola", {"Violin, fiddle", "String section", "Bowed string instrument"}),
    ("cello", {"Cello", "String section", "Bowed string instrument"}),
    ("contrabass", {"Double bass", "String section"}),
    ("flute", {"Flute", "Wind instrument, woodwind instrument"}),
    ("piccolo", {"Flute", "Wind instrument, woodwind instrument"}),
    ("recorder", {"Flute", "Wind instrument, woodwind instrument"}),
    ("clarinet", {"Clarinet", "Wind instrument, woodwind instrument"}),
    ("oboe", {"Wind instrument, woodwind instrument", "Clarinet"}),
    ("bassoon", {"Wind instrument, woodwind instrument"}),
    ("sax", {"Saxophone", "Wind instrument, woodwind instrument"}),
    ("trumpet", {"Trumpet", "Brass instrument"}),
    ("trombone", {"Trombone", "Brass instrument"}),
    ("horn", {"French horn", "Brass instrument"}),
    ("tuba", {"Brass instrument"}),
    ("brass", {"Brass instrument", "Trumpet", "Trombone", "French horn"}),
    ("marimba", {"Marimba, xylophone", "Mallet percussion"}),
    ("xylophone", {"Marimba, xylophone", "Mallet percussion"}),
    ("vibraphone", {"Vibraphone", "Mallet percussion"}),
    ("glockenspiel", {"Glockenspiel", "Mallet percussion"}),
    ("celesta", {"Glockenspiel", "Mallet percussion"}),
    ("tubular", {"Tubular bells", "Mallet percussion"}),
    ("harp", {"Harp"}),
    ("accordion", {"Accordion"}),
    ("harmonica", {"Harmonica"}),
    ("banjo", {"Banjo"}),
    ("sitar", {"Sitar"}),
    ("mandolin", {"Mandolin"}),
    ("ukulele", {"Ukulele"}),
    ("synth", {"Synthesizer", "Electronic music"}),
    ("choir", {"Choir", "Singing", "Vocal music"}),
    ("voice", {"Singing", "Choir", "Vocal music"}),
    ("vocal", {"Singing", "Vocal music"}),
))


def instrument_audioset_names(truth_instrument: str) -> frozenset[str]:
    """AudioSet names for one truth instrument; empty when unknown (e.g. "ensemble (recorded track)")."""
    name = truth_instrument.lower()
    for keyword, names in KEYWORD_TO_AUDIOSET:
        if keyword in name:
            return names
    return frozenset()
