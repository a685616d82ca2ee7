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

    @property
    def statement(self) -> str:
        return f"{self.subject} {self.verb}"

    @property
    def ongoing(self) -> str:
        """Clause for an overlap: "while <ongoing>, ..."."""
        return self.statement

    def when_question(self) -> str:
        aux = "do" if self.plural else "does"
        return f"When {aux} {self.subject} {self.base}?"

    def count_question(self) -> str:
        aux = "do" if self.plural else "does"
        return f"How many times {aux} {self.subject} {self.base}?"


def _p(subject: str, verb: str, base: str, plural: bool = False) -> SoundPhrase:
    return SoundPhrase(subject, verb, base, plural)


_DOG = _p("a dog", "barks", "bark")
_CAT = _p("a cat", "meows", "meow")
_PHONE = _p("a phone", "rings", "ring")
_DOOR = _p("a door", "slams", "slam")
_KNOCK = _p("someone", "knocks on a door", "knock on a door")
_BELL = _p("a bell", "rings", "ring")
_APPLAUSE = _p("applause", "rings out", "ring out")
_LAUGH = _p("people", "laugh", "laugh", plural=True)
_GLASS = _p("glasses", "clink", "clink", plural=True)
_HORN = _p("a car horn", "honks", "honk")
_ALARM = _p("an alarm clock", "rings", "ring")
_CLOCK = _p("a clock", "ticks", "tick")
_BIRD = _p("a bird", "chirps", "chirp")
_BABY = _p("a baby", "cries", "cry")
_WATER = _p("water", "runs", "run")
_TYPING = _p("someone", "types on a keyboard", "type on a keyboard")
_TRAFFIC = _p("traffic", "passes", "pass")

PHRASES: dict[str, SoundPhrase] = {
    "dog_bark": _DOG,
    "dog": _DOG,
    "bark": _DOG,
    "barking": _DOG,
    "cat_meow": _CAT,
    "cat": _CAT,
    "meow": _CAT,
    "phone_ring": _PHONE,
    "telephone": _PHONE,
    "telephone_ring": _PHONE,
    "telephone_bell_ringing": _PHONE,
    "ringtone": _PHONE,
    "door_slam": _DOOR,
    "slam": _DOOR,
    "door": _p("a door", "closes", "close"),
    "door_knock": _KNOCK,
    "knock": _KNOCK,
    "doorbell": _p("a doorbell", "rings", "ring"),
    "bell": _BELL,
    "church_bell": _p("a church bell", "rings", "ring"),
    "applause": _APPLAUSE,
    "clapping": _p("people", "clap", "clap", plural=True),
    "laughter": _LAUGH,
    "laugh": _LAUGH,
    "glass_clink": _GLASS,
    "chink_clink": _GLASS,
    "glass": _p("glass", "clinks", "clink"),
    "car_horn": _HORN,
    "vehicle_horn_car_horn_honking": _HORN,
    "horn": _p("a horn", "honks", "honk"),
    "camera_shutter": _p("a camera shutter", "clicks", "click"),
    "camera": _p("a camera shutter", "clicks", "click"),
    "cash_register": _p("a cash register", "rings", "ring"),
    "vacuum_cleaner": _p("a vacuum cleaner", "runs", "run"),
    "kettle_whistle": _p("a kettle", "whistles", "whistle"),
    "kettle": _p("a kettle", "whistles", "whistle"),
    "cow": _p("a cow", "moos", "moo"),
    "moo": _p("a cow", "moos", "moo"),
    "rooster_crow": _p("a rooster", "crows", "crow"),
    "rooster": _p("a rooster", "crows", "crow"),
    "crowing_cock_a_doodle_doo": _p("a rooster", "crows", "crow"),
    "alarm_clock": _ALARM,
    "alarm": _p("an alarm", "sounds", "sound"),
    "toilet_flush": _p("a toilet", "flushes", "flush"),
    "clock_ticking": _CLOCK,
    "tick_tock": _CLOCK,
    "tick": _CLOCK,
    "clock": _CLOCK,
    "helicopter": _p("a helicopter", "flies over", "fly over"),
    "wind": _p("wind", "blows", "blow"),
    "rain": _p("rain", "falls", "fall"),
    "thunder": _p("thunder", "rumbles", "rumble"),
    "siren": _p("a siren", "wails", "wail"),
    "baby_cry": _BABY,
    "baby_cry_infant_cry": _BABY,
    "crying_baby": _BABY,
    "footsteps": _p("footsteps", "sound", "sound", plural=True),
    "water": _WATER,
    "water_running": _WATER,
    "engine": _p("an engine", "runs", "run"),
    "bird": _BIRD,
    "bird_chirp": _BIRD,
    "chirp_tweet": _BIRD,
    "birdsong": _BIRD,
    "cough": _p("someone", "coughs", "cough"),
    "sneeze": _p("someone", "sneezes", "sneeze"),
    "typing": _TYPING,
    "keyboard_typing": _TYPING,
    "gunshot": _p("a gunshot", "rings out", "ring out"),
    "explosion": _p("an explosion", "booms", "boom"),
    "whistle": _p("a whistle", "blows", "blow"),
    "train": _p("a train", "passes", "pass"),
    "traffic": _TRAFFIC,
    "beep": _p("a device", "beeps", "beep"),
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
) - {stem(w) for w in ("a", "an", "someone", "people", "device", "glass", "glasses", "water", "door", "air")}


def instruments(tags: list[str]) -> list[str]:
    """The tags that name an instrument ("drum kit", "acoustic guitar nylon"), in order."""
    return [t for t in tags if any(stem(w) in INSTRUMENT_WORDS for w in tokens(t))]


def normalize_label(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def phrase_for(label: str) -> SoundPhrase:
    key = normalize_label(label)
    if key in PHRASES:
        return PHRASES[key]
    words = key.replace("_", " ").strip() or "unknown"
    return SoundPhrase(with_article(f"{words} sound"), "occurs", "occur")


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
