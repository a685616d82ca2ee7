"""A short sound caption from events: "a dog barks, 4.8-5.7 s; a phone rings twice, 7.2-10.0 s"."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.sound import SoundEvent

# AudioSet class -> a short clause; classes not listed read "a <label> sound".
PHRASES: dict[str, str] = {
    "Dog": "a dog barks", "Bark": "a dog barks", "Bow-wow": "a dog barks", "Yip": "a dog yips",
    "Howl": "a dog howls", "Growling": "a dog growls", "Cat": "a cat meows", "Meow": "a cat meows",
    "Purr": "a cat purrs", "Cattle, bovinae": "a cow moos", "Moo": "a cow moos",
    "Chicken, rooster": "a rooster crows", "Crowing, cock-a-doodle-doo": "a rooster crows",
    "Bird": "a bird sings", "Bird vocalization, bird call, bird song": "a bird sings",
    "Telephone": "a phone rings", "Telephone bell ringing": "a phone rings", "Ringtone": "a phone rings",
    "Door": "a door slams", "Slam": "a door slams", "Knock": "someone knocks", "Doorbell": "a doorbell rings",
    "Applause": "applause", "Clapping": "clapping", "Cheering": "cheering", "Laughter": "laughter",
    "Bell": "a bell rings", "Bicycle bell": "a bell rings", "Church bell": "a church bell rings",
    "Alarm clock": "an alarm clock rings", "Alarm": "an alarm sounds", "Beep, bleep": "a device beeps",
    "Smoke detector, smoke alarm": "a smoke alarm beeps", "Siren": "a siren wails",
    "Vehicle horn, car horn, honking": "a car horn honks", "Helicopter": "a helicopter flies over",
    "Aircraft": "an aircraft passes", "Vacuum cleaner": "a vacuum cleaner runs",
    "Toilet flush": "a toilet flushes", "Camera": "a camera shutter clicks",
    "Single-lens reflex camera": "a camera shutter clicks", "Cash register": "a cash register rings",
    "Chink, clink": "glasses clink", "Glass": "glass clinks", "Shatter": "glass shatters",
    "Tick-tock": "a clock ticks", "Tick": "a clock ticks", "Clock": "a clock ticks",
    "Cough": "someone coughs", "Sneeze": "someone sneezes", "Baby cry, infant cry": "a baby cries",
    "Walk, footsteps": "footsteps", "Rain": "rain falls", "Thunder": "thunder rumbles", "Wind": "wind blows",
    "Water": "water runs", "Gunshot, gunfire": "a gunshot", "Explosion": "an explosion",
    "Typing": "typing", "Engine": "an engine runs", "Car": "a car passes", "Train": "a train passes",
    "Whistle": "a whistle blows", "Steam whistle": "a whistle blows", "Boiling": "water boils",
    # AudioSet ancestors stated when a leaf class is uncertain (annotators/sound/statement.py)
    "Animal": "an animal calls", "Domestic animals, pets": "a pet animal calls",
    "Livestock, farm animals, working animals": "a farm animal calls", "Wild animals": "a wild animal calls",
    "Fowl": "a farm bird calls", "Canidae, dogs, wolves": "a dog or wolf calls", "Insect": "an insect buzzes",
    "Vehicle": "a vehicle passes", "Motor vehicle (road)": "a road vehicle passes",
    "Domestic sounds, home sounds": "a household sound", "Mechanisms": "a mechanical sound",
    "Tools": "a tool sounds", "Liquid": "liquid splashes", "Wood": "wood knocks",
    "Natural sounds": "a natural sound", "Human group actions": "a crowd reacts",
    "Human locomotion": "footsteps", "Hands": "hands clap or tap", "Generic impact sounds": "an impact",
}
TIMES_WORDS = {2: "twice", 3: "three times"}
# Discrete sounds, for which "twice" makes sense (not applause, engines, rain).
COUNTABLE: frozenset[str] = frozenset({
    "Dog", "Bark", "Bow-wow", "Yip", "Howl", "Cat", "Meow", "Cattle, bovinae", "Moo", "Chicken, rooster",
    "Crowing, cock-a-doodle-doo", "Telephone", "Telephone bell ringing", "Ringtone", "Door", "Slam", "Knock",
    "Doorbell", "Bell", "Bicycle bell", "Church bell", "Beep, bleep", "Vehicle horn, car horn, honking",
    "Camera", "Single-lens reflex camera", "Cough", "Sneeze", "Gunshot, gunfire", "Explosion", "Chink, clink",
    "Whistle", "Steam whistle",
})


def short_name(label: str) -> str:
    """"Roaring cats (lions, tigers)" -> "roaring cats"; "Whoosh, swoosh, swish" -> "whoosh"."""
    return label.split("(")[0].split(",")[0].strip().lower() or label.lower()


def phrase(ev: SoundEvent, hedge_below: float = 0.2) -> str:
    name = short_name(ev.label)
    if ev.score < hedge_below:  # a best guess (e.g. a segment's fallback), worded as one
        return f"a sound (possibly {name})" + (" in the background" if ev.background else "")
    text = PHRASES.get(ev.label, f"{_article(name)} {name} sound")
    if ev.count >= 2 and ev.label in COUNTABLE:
        text += " " + TIMES_WORDS.get(ev.count, f"{ev.count} times")
    if ev.background:
        text += " in the background"
    return text


def _article(name: str) -> str:
    return "an" if name[:1] in "aeiou" else "a"


def sound_caption(events: Sequence[SoundEvent], decimals: int = 1) -> str:
    """Time-ordered; times in recording seconds. Empty string when there are no events."""
    parts = [f"{phrase(e)}, {e.start_s:.{decimals}f}-{e.end_s:.{decimals}f} s"
             for e in sorted(events, key=lambda e: e.start_s)]
    return "; ".join(parts)
