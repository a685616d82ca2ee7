"""AudioSet class groups by display name (as in YAMNet's class map), and lookups into any class list.

Groups are named, not numbered, so that another tagger's AudioSet-labelled head (PANNs, BEATs, AST) can
reuse them; names missing from a tagger's class list are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SPEECH: frozenset[str] = frozenset({
    "Speech", "Child speech, kid speaking", "Conversation", "Narration, monologue", "Babbling",
    "Speech synthesizer", "Hubbub, speech noise, speech babble", "Whispering",
})
SINGING: frozenset[str] = frozenset({
    "Singing", "Choir", "Yodeling", "Chant", "Mantra", "Child singing", "Synthetic singing", "Rapping",
    "Humming", "A capella", "Vocal music", "Beatboxing",
})
INSTRUMENT_PARENTS: frozenset[str] = frozenset({
    "Musical instrument", "Plucked string instrument", "Keyboard (musical)", "Percussion", "Mallet percussion",
    "Bowed string instrument", "Brass instrument", "Wind instrument, woodwind instrument", "Orchestra",
})
INSTRUMENTS: frozenset[str] = frozenset({
    "Guitar", "Electric guitar", "Bass guitar", "Acoustic guitar", "Steel guitar, slide guitar",
    "Tapping (guitar technique)", "Strum", "Banjo", "Sitar", "Mandolin", "Zither", "Ukulele", "Piano",
    "Electric piano", "Organ", "Electronic organ", "Hammond organ", "Synthesizer", "Sampler", "Harpsichord",
    "Drum kit", "Drum machine", "Drum", "Snare drum", "Rimshot", "Drum roll", "Bass drum", "Timpani", "Tabla",
    "Cymbal", "Hi-hat", "Wood block", "Tambourine", "Rattle (instrument)", "Maraca", "Gong", "Tubular bells",
    "Marimba, xylophone", "Glockenspiel", "Vibraphone", "Steelpan", "French horn", "Trumpet", "Trombone",
    "String section", "Violin, fiddle", "Pizzicato", "Cello", "Double bass", "Flute", "Saxophone", "Clarinet",
    "Harp", "Harmonica", "Accordion", "Bagpipes", "Didgeridoo", "Shofar", "Theremin", "Singing bowl",
    "Scratching (performance technique)",
}) | INSTRUMENT_PARENTS
# Bells and chimes sit under "Musical instrument" in AudioSet but are usually sound events (doorbells,
# alarm bells, bicycle bells): they stay in the sound branch.
BELLS: frozenset[str] = frozenset({
    "Bell", "Church bell", "Jingle bell", "Bicycle bell", "Tuning fork", "Chime", "Wind chime",
    "Change ringing (campanology)", "Cowbell",
})
GENRES: frozenset[str] = frozenset({
    "Pop music", "Hip hop music", "Rock music", "Heavy metal", "Punk rock", "Grunge", "Progressive rock",
    "Rock and roll", "Psychedelic rock", "Rhythm and blues", "Soul music", "Reggae", "Country", "Swing music",
    "Bluegrass", "Funk", "Folk music", "Middle Eastern music", "Jazz", "Disco", "Classical music", "Opera",
    "Electronic music", "House music", "Techno", "Dubstep", "Drum and bass", "Electronica",
    "Electronic dance music", "Ambient music", "Trance music", "Music of Latin America", "Salsa music",
    "Flamenco", "Blues", "Music for children", "New-age music", "Music of Africa", "Afrobeat",
    "Christian music", "Gospel music", "Music of Asia", "Carnatic music", "Music of Bollywood", "Ska",
    "Traditional music", "Independent music",
})
MUSIC_FUNCTIONS: frozenset[str] = frozenset({
    "Song", "Background music", "Theme music", "Jingle (music)", "Soundtrack music", "Lullaby",
    "Video game music", "Christmas music", "Dance music", "Wedding music",
})
MOODS: frozenset[str] = frozenset({
    "Happy music", "Sad music", "Tender music", "Exciting music", "Angry music", "Scary music",
})
MUSIC: frozenset[str] = (
    frozenset({"Music", "Electronic tuner", "Effects unit", "Chorus effect"})
    | (INSTRUMENTS - BELLS) | GENRES | MUSIC_FUNCTIONS | MOODS | SINGING
)
# The acoustic scene, the channel or the recording itself rather than a sound event.
AMBIENCE: frozenset[str] = frozenset({
    "Silence", "Inside, small room", "Inside, large room or hall", "Inside, public space",
    "Outside, urban or manmade", "Outside, rural or natural", "Reverberation", "Echo", "Noise",
    "Environmental noise", "Static", "Distortion", "Sidetone", "White noise", "Pink noise", "Field recording",
    "Television", "Radio", "Sound effect", "Cacophony",
})
# Broad parents that only add a coarser name for an event already labelled by a child class.
GENERIC: frozenset[str] = frozenset({
    "Animal", "Domestic animals, pets", "Livestock, farm animals, working animals", "Wild animals", "Fowl",
    "Vehicle", "Motor vehicle (road)", "Aircraft", "Rail transport", "Boat, Water vehicle", "Engine",
    "Mechanisms", "Tools", "Liquid", "Glass", "Wood", "Alarm",
    "Hands", "Water", "Canidae, dogs, wolves", "Rodents, rats, mice", "Insect", "Bird", "Explosion",
})
# Classes naming one source: overlapping detections of a family are one event.
FAMILIES: tuple[frozenset[str], ...] = tuple(frozenset(f) for f in (
    {"Dog", "Bark", "Yip", "Howl", "Bow-wow", "Growling", "Whimper (dog)", "Canidae, dogs, wolves"},
    {"Cat", "Purr", "Meow", "Hiss", "Caterwaul"},
    {"Cattle, bovinae", "Moo", "Cowbell"},
    {"Horse", "Clip-clop", "Neigh, whinny"},
    {"Pig", "Oink"}, {"Goat", "Bleat", "Sheep"},
    {"Chicken, rooster", "Cluck", "Crowing, cock-a-doodle-doo", "Fowl", "Turkey", "Gobble"},
    {"Duck", "Quack", "Goose", "Honk"},
    {"Bird", "Bird vocalization, bird call, bird song", "Chirp, tweet", "Squawk", "Pigeon, dove", "Coo",
     "Crow", "Caw", "Owl", "Hoot"},
    {"Insect", "Cricket", "Mosquito", "Fly, housefly", "Buzz", "Bee, wasp, etc."},
    {"Telephone", "Telephone bell ringing", "Ringtone", "Telephone dialing, DTMF", "Dial tone", "Busy signal"},
    {"Alarm", "Alarm clock", "Buzzer", "Smoke detector, smoke alarm", "Fire alarm", "Beep, bleep", "Car alarm"},
    {"Siren", "Civil defense siren", "Police car (siren)", "Ambulance (siren)", "Fire engine, fire truck (siren)",
     "Emergency vehicle"},
    {"Door", "Slam", "Knock", "Sliding door", "Cupboard open or close", "Drawer open or close", "Doorbell",
     "Ding-dong"},
    {"Applause", "Clapping", "Cheering", "Crowd"},
    {"Laughter", "Baby laughter", "Giggle", "Snicker", "Belly laugh", "Chuckle, chortle"},
    {"Crying, sobbing", "Baby cry, infant cry", "Whimper", "Wail, moan"},
    {"Cough", "Throat clearing", "Sneeze"},
    {"Glass", "Chink, clink", "Shatter", "Dishes, pots, and pans", "Cutlery, silverware"},
    {"Clock", "Tick", "Tick-tock"},
    {"Vehicle horn, car horn, honking", "Toot", "Air horn, truck horn", "Foghorn", "Train horn"},
    {"Aircraft", "Aircraft engine", "Jet engine", "Propeller, airscrew", "Helicopter",
     "Fixed-wing aircraft, airplane"},
    {"Vehicle", "Motor vehicle (road)", "Car", "Car passing by", "Truck", "Bus", "Motorcycle",
     "Traffic noise, roadway noise", "Engine", "Idling", "Accelerating, revving, vroom", "Engine starting"},
    {"Train", "Rail transport", "Train whistle", "Railroad car, train wagon", "Train wheels squealing",
     "Subway, metro, underground"},
    {"Camera", "Single-lens reflex camera"},
    {"Water", "Water tap, faucet", "Sink (filling or washing)", "Bathtub (filling or washing)", "Toilet flush",
     "Liquid", "Splash, splatter", "Pour", "Trickle, dribble", "Gush", "Fill (with liquid)", "Drip"},
    {"Rain", "Raindrop", "Rain on surface", "Thunderstorm", "Thunder"},
    {"Wind", "Rustling leaves", "Wind noise (microphone)"},
    {"Gunshot, gunfire", "Machine gun", "Fusillade", "Artillery fire", "Cap gun", "Explosion", "Boom"},
    {"Fireworks", "Firecracker", "Burst, pop"},
    {"Typing", "Typewriter", "Computer keyboard"},
    {"Whistle", "Steam whistle", "Steam"},
    {"Bell", "Church bell", "Jingle bell", "Bicycle bell", "Chime", "Wind chime", "Change ringing (campanology)"},
    {"Vacuum cleaner", "Hair dryer", "Blender", "Electric shaver, electric razor", "Mechanical fan"},
    {"Tools", "Power tool", "Drill", "Hammer", "Jackhammer", "Sawing", "Sanding", "Chainsaw"},
))


def index_map(class_names: Sequence[str]) -> dict[str, int]:
    return {name: i for i, name in enumerate(class_names)}


def find(class_names: Sequence[str], name: str) -> int | None:
    """Index of a class by exact display name, then case-insensitively; None when absent."""
    lookup = index_map(class_names)
    if name in lookup:
        return lookup[name]
    lowered = {n.lower(): i for n, i in lookup.items()}
    return lowered.get(name.lower())


def indices(class_names: Sequence[str], names: Iterable[str]) -> list[int]:
    """Sorted indices of the given names that the class list has."""
    lookup = index_map(class_names)
    return sorted(lookup[n] for n in names if n in lookup)


def speech_indices(class_names: Sequence[str]) -> list[int]:
    return indices(class_names, SPEECH)


def singing_indices(class_names: Sequence[str]) -> list[int]:
    return indices(class_names, SINGING)


def music_indices(class_names: Sequence[str]) -> list[int]:
    return indices(class_names, MUSIC)


def instrument_indices(class_names: Sequence[str], with_parents: bool = False) -> list[int]:
    names = INSTRUMENTS if with_parents else INSTRUMENTS - INSTRUMENT_PARENTS
    return indices(class_names, names - BELLS)


def genre_indices(class_names: Sequence[str]) -> list[int]:
    return indices(class_names, GENRES)


def mood_indices(class_names: Sequence[str]) -> list[int]:
    return indices(class_names, MOODS)


def sound_event_indices(class_names: Sequence[str]) -> list[int]:
    """Classes that can be sound events: not speech, not music or singing, not the acoustic scene."""
    excluded = SPEECH | MUSIC | AMBIENCE
    return [i for i, name in enumerate(class_names) if name not in excluded]


def relatives(name: str) -> frozenset[str]:
    """Every class that shares a family with `name` (itself included)."""
    out = {name}
    for family in FAMILIES:
        if name in family:
            out |= family
    return frozenset(out)


def same_source(a: str, b: str) -> bool:
    return b in relatives(a)
