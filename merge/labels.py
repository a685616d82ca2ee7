"""Sound labels -> readable English: "dog_bark" -> "a dog barks", "When does a dog bark?".

Known labels (the corpus classes and common AudioSet / YAMNet names) have hand-written phrases; any
other label falls back to "a <label> sound occurs", which stays grammatical for arbitrary class names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from merge.text import stem, tokens, with_article


@dataclass(frozen=True)
class SoundPhrase:
    subject: str  # "a dog"
    verb: str  # third person: "barks"
    base: str  # infinitive: "bark"
    plural: bool = False  # "people laugh" -> "When do people laugh?"
    countable: bool = True  # discrete sounds: "a dog barks twice"; not rain, engines, applause

    @property
    def statement(self) -> str:
        return f"{self.subject} {self.verb}"

    def when_question(self) -> str:
        aux = "do" if self.plural else "does"
        return f"When {aux} {self.subject} {self.base}?"

    def count_question(self) -> str:
        aux = "do" if self.plural else "does"
        return f"How many times {aux} {self.subject} {self.base}?"


def _p(subject: str, verb: str, base: str, plural: bool = False) -> SoundPhrase:
    return SoundPhrase(subject, verb, base, plural)


def _mass(subject: str, verb: str, base: str, plural: bool = False) -> SoundPhrase:
    return SoundPhrase(subject, verb, base, plural, countable=False)


_DOG = _p("a dog", "barks", "bark")
_CAT = _p("a cat", "meows", "meow")
_COW = _p("a cow", "moos", "moo")
_ROOSTER = _p("a rooster", "crows", "crow")
_BIRD = _p("a bird", "sings", "sing")
_PHONE = _p("a phone", "rings", "ring")
_DOOR = _p("a door", "slams", "slam")
_KNOCK = _p("someone", "knocks on a door", "knock on a door")
_BELL = _p("a bell", "rings", "ring")
_HORN = _p("a car horn", "honks", "honk")
_CAMERA = _p("a camera shutter", "clicks", "click")
_GLASS = _p("glasses", "clink", "clink", plural=True)
_KETTLE = _p("a kettle", "whistles", "whistle")
_ALARM = _p("an alarm clock", "rings", "ring")
_CLOCK = _mass("a clock", "ticks", "tick")
_BABY = _p("a baby", "cries", "cry")
_BEEP = _p("a device", "beeps", "beep")
_WHISTLE = _p("a whistle", "blows", "blow")
_GUNSHOT = _p("a gunshot", "rings out", "ring out")
_APPLAUSE = _mass("applause", "rings out", "ring out")
_LAUGH = _mass("people", "laugh", "laugh", plural=True)
_WATER = _mass("water", "runs", "run")
_TYPING = _mass("someone", "types on a keyboard", "type on a keyboard")
_FOOTSTEPS = _mass("footsteps", "sound", "sound", plural=True)

# Keys are normalized labels (`normalize_label`): the corpus classes and AudioSet / YAMNet class names,
# worded as the sound branch's own captions word them.
PHRASES: dict[str, SoundPhrase] = {
    "dog_bark": _DOG, "dog": _DOG, "bark": _DOG, "barking": _DOG, "bow_wow": _DOG,
    "yip": _p("a dog", "yips", "yip"), "howl": _p("a dog", "howls", "howl"),
    "growling": _p("a dog", "growls", "growl"),
    "cat_meow": _CAT, "cat": _CAT, "meow": _CAT, "purr": _mass("a cat", "purrs", "purr"),
    "cow": _COW, "moo": _COW, "cattle_bovinae": _COW,
    "rooster_crow": _ROOSTER, "rooster": _ROOSTER, "chicken_rooster": _ROOSTER,
    "crowing_cock_a_doodle_doo": _ROOSTER,
    "bird": _BIRD, "birds": _BIRD, "bird_chirp": _BIRD, "chirp_tweet": _BIRD, "birdsong": _BIRD,
    "bird_vocalization_bird_call_bird_song": _BIRD,
    "phone_ring": _PHONE, "telephone": _PHONE, "telephone_ring": _PHONE, "telephone_bell_ringing": _PHONE,
    "ringtone": _PHONE,
    "door_slam": _DOOR, "slam": _DOOR, "door": _DOOR,
    "door_knock": _KNOCK, "knock": _KNOCK, "doorbell": _p("a doorbell", "rings", "ring"),
    "bell": _BELL, "bicycle_bell": _BELL, "church_bell": _p("a church bell", "rings", "ring"),
    "applause": _APPLAUSE, "clapping": _mass("people", "clap", "clap", plural=True),
    "cheering": _mass("people", "cheer", "cheer", plural=True), "laughter": _LAUGH, "laugh": _LAUGH,
    "glass_clink": _GLASS, "chink_clink": _GLASS, "glass": _p("glass", "clinks", "clink"),
    "shatter": _p("glass", "shatters", "shatter"),
    "car_horn": _HORN, "vehicle_horn_car_horn_honking": _HORN, "horn": _p("a horn", "honks", "honk"),
    "camera_shutter": _CAMERA, "camera": _CAMERA, "single_lens_reflex_camera": _CAMERA,
    "cash_register": _p("a cash register", "rings", "ring"),
    "vacuum_cleaner": _mass("a vacuum cleaner", "runs", "run"),
    "kettle_whistle": _KETTLE, "kettle": _KETTLE,
    "alarm_clock": _ALARM, "alarm": _p("an alarm", "sounds", "sound"),
    "smoke_detector_smoke_alarm": _p("a smoke alarm", "beeps", "beep"),
    "siren": _p("a siren", "wails", "wail"),
    "toilet_flush": _p("a toilet", "flushes", "flush"),
    "clock_ticking": _CLOCK, "tick_tock": _CLOCK, "tick": _CLOCK, "clock": _CLOCK,
    "helicopter": _mass("a helicopter", "flies over", "fly over"),
    "aircraft": _mass("an aircraft", "passes", "pass"),
    "wind": _mass("wind", "blows", "blow"), "rain": _mass("rain", "falls", "fall"),
    "thunder": _mass("thunder", "rumbles", "rumble"),
    "water": _WATER, "water_running": _WATER, "boiling": _mass("water", "boils", "boil"),
    "baby_cry": _BABY, "baby_cry_infant_cry": _BABY, "crying_baby": _BABY,
    "cough": _p("someone", "coughs", "cough"), "sneeze": _p("someone", "sneezes", "sneeze"),
    "footsteps": _FOOTSTEPS, "walk_footsteps": _FOOTSTEPS,
    "typing": _TYPING, "keyboard_typing": _TYPING,
    "engine": _mass("an engine", "runs", "run"), "car": _mass("a car", "passes", "pass"),
    "train": _mass("a train", "passes", "pass"), "traffic": _mass("traffic", "passes", "pass"),
    "gunshot": _GUNSHOT, "gunshot_gunfire": _GUNSHOT, "explosion": _p("an explosion", "booms", "boom"),
    "whistle": _WHISTLE, "steam_whistle": _WHISTLE,
    "beep": _BEEP, "beep_bleep": _BEEP,
    # AudioSet ancestors the sound branch backs off to when a leaf class is uncertain
    "animal": _p("an animal", "calls", "call"),
    "domestic_animals_pets": _p("a pet animal", "calls", "call"),
    "livestock_farm_animals_working_animals": _p("a farm animal", "calls", "call"),
    "wild_animals": _p("a wild animal", "calls", "call"),
    "fowl": _p("a farm bird", "calls", "call"),
    "canidae_dogs_wolves": _p("a dog or wolf", "calls", "call"),
    "insect": _mass("an insect", "buzzes", "buzz"),
    "vehicle": _mass("a vehicle", "passes", "pass"),
    "motor_vehicle_road": _mass("a road vehicle", "passes", "pass"),
    "domestic_sounds_home_sounds": _p("a household sound", "occurs", "occur"),
    "mechanisms": _p("a mechanical sound", "occurs", "occur"),
    "tools": _p("a tool", "sounds", "sound"),
    "liquid": _mass("liquid", "splashes", "splash"),
    "wood": _p("wood", "knocks", "knock"),
    "natural_sounds": _p("a natural sound", "occurs", "occur"),
    "human_group_actions": _mass("a crowd", "reacts", "react"),
    "human_locomotion": _FOOTSTEPS,
    "hands": _mass("hands", "clap or tap", "clap or tap", plural=True),
    "generic_impact_sounds": _p("an impact", "sounds", "sound"),
}

INSTRUMENT_WORDS = frozenset(
    stem(w)
    for w in (
        "piano guitar bass drum drums violin viola cello contrabass flute piccolo clarinet oboe bassoon trumpet "
        "trombone horn tuba saxophone sax organ synth synthesizer harp accordion harmonica banjo mandolin "
        "ukulele sitar percussion strings string marimba xylophone vibraphone glockenspiel celesta harpsichord "
        "keyboard timpani choir cymbal"
    ).split()
)

# Words that name a sound source or a kind of audio. A caption that uses one that none of the
# recording's rows supports is flagged as inventing it.
EVENT_WORDS: frozenset[str] = frozenset(
    {stem(t) for key, ph in PHRASES.items() for t in tokens(key.replace("_", " ") + " " + ph.subject)}
    | {
        stem(w)
        for w in (
            "speech speak talk voice say sing singer singing vocal music song melody tune instrumental jingle "
            "piano guitar drum drums bass violin cello flute trumpet saxophone organ synthesizer strings "
            "horse sheep pig goat duck chicken frog insect "
            "siren motorcycle truck airplane aircraft engine hammer drill saw chainsaw "
            "man woman boy girl child children crowd audience"
        ).split()
    }
    | INSTRUMENT_WORDS
    # not a source: "sound" (the back-off phrases "a household sound", "a natural sound"), articles, people
) - {stem(w) for w in ("a", "an", "someone", "people", "device", "glass", "glasses", "water", "door", "air", "sound",
                       "sounds", "or")}


def instruments(tags: list[str]) -> list[str]:
    """The tags that name an instrument ("drum kit", "acoustic guitar nylon"), in order."""
    return [t for t in tags if any(stem(w) in INSTRUMENT_WORDS for w in tokens(t))]


def normalize_label(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def short_name(label: str) -> str:
    """AudioSet-style names list synonyms: "Whoosh, swoosh, swish" -> "whoosh", "Roaring cats (lions)" -> ..."""
    name = label.split("(")[0].split(",")[0].replace("_", " ").strip().lower()
    return " ".join(name.split()) or "unknown"


def phrase_for(label: str) -> SoundPhrase:
    key = normalize_label(label)
    if key in PHRASES:
        return PHRASES[key]
    return SoundPhrase(with_article(f"{short_name(label)} sound"), "occurs", "occur")


# Words that carry no identity of a sound; never required for a label to count as mentioned.
_FILLER = frozenset(
    {"a", "an", "the", "of", "and", "or", "on", "in", "at", "to", "is", "are", "be", "sound", "sounds", "occur",
     "occurs", "someone", "people", "out", "over", "with", "by", "device", "unknown"}
)


def label_terms(label: str) -> tuple[str, ...]:
    """Stems of the label's own words ("telephone_bell_ringing" -> telephone, bell, ring)."""
    return tuple(dict.fromkeys(stem(t) for t in tokens(label.replace("_", " ")) if t not in _FILLER))


def phrase_terms(label: str) -> tuple[str, ...]:
    """Stems of the phrase the caption uses ("a phone rings" -> phone, ring)."""
    ph = phrase_for(label)
    return tuple(dict.fromkeys(stem(t) for t in tokens(ph.statement) if t not in _FILLER))
