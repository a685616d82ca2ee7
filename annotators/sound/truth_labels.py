"""Corpus truth sound labels -> the AudioSet class names that count as naming them.

Used only for evaluation. Sets hold the class itself and its close relatives (the sound's source or its
action), not broad parents such as "Animal" or "Vehicle" that would name almost anything.
"""

from __future__ import annotations

TRUTH_TO_AUDIOSET: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in {
    "dog_bark": {"Dog", "Bark", "Yip", "Howl", "Bow-wow", "Growling", "Whimper (dog)", "Canidae, dogs, wolves"},
    "door_slam": {"Door", "Slam", "Knock", "Bang", "Thump, thud", "Sliding door", "Cupboard open or close",
                  "Drawer open or close", "Whack, thwack", "Thunk"},
    "phone_ring": {"Telephone", "Telephone bell ringing", "Ringtone", "Telephone dialing, DTMF"},
    "bell": {"Bell", "Church bell", "Jingle bell", "Bicycle bell", "Chime", "Wind chime", "Tubular bells",
             "Change ringing (campanology)", "Ding", "Ding-dong", "Doorbell", "Tuning fork", "Cowbell",
             "Glockenspiel"},
    "camera_shutter": {"Camera", "Single-lens reflex camera", "Clicking"},
    "car_horn": {"Vehicle horn, car horn, honking", "Toot", "Air horn, truck horn", "Honk", "Car alarm"},
    "cat_meow": {"Cat", "Meow", "Caterwaul", "Purr"},
    "applause": {"Applause", "Clapping", "Cheering", "Crowd"},
    "glass_clink": {"Glass", "Chink, clink", "Shatter", "Dishes, pots, and pans", "Cutlery, silverware",
                    "Ding", "Jingle, tinkle"},
    "cash_register": {"Cash register", "Coin (dropping)", "Ratchet, pawl"},
    "vacuum_cleaner": {"Vacuum cleaner", "Hair dryer", "Blender", "Mechanical fan"},
    "kettle_whistle": {"Whistle", "Steam whistle", "Steam", "Boiling", "Hiss"},
    "cow": {"Cattle, bovinae", "Moo", "Cowbell"},
    "rooster_crow": {"Chicken, rooster", "Crowing, cock-a-doodle-doo", "Cluck", "Fowl"},
    "alarm_clock": {"Alarm clock", "Alarm", "Beep, bleep", "Buzzer", "Smoke detector, smoke alarm", "Fire alarm",
                    "Clock"},
    "toilet_flush": {"Toilet flush", "Water", "Water tap, faucet", "Sink (filling or washing)",
                     "Bathtub (filling or washing)", "Gurgling", "Pour", "Gush", "Fill (with liquid)"},
    "clock_ticking": {"Clock", "Tick", "Tick-tock"},
    "helicopter": {"Helicopter", "Aircraft", "Aircraft engine", "Propeller, airscrew"},
    "wind": {"Wind", "Wind noise (microphone)", "Rustling leaves"},
    "rain": {"Rain", "Raindrop", "Rain on surface", "Thunderstorm"},
    "thunder": {"Thunder", "Thunderstorm", "Boom"},
    "water": {"Water", "Stream", "Waterfall", "Ocean", "Waves, surf", "Gurgling", "Trickle, dribble",
              "Splash, splatter"},
    "birds": {"Bird", "Bird vocalization, bird call, bird song", "Chirp, tweet", "Pigeon, dove", "Crow", "Caw"},
    "bird": {"Bird", "Bird vocalization, bird call, bird song", "Chirp, tweet", "Pigeon, dove", "Crow", "Caw"},
    "traffic": {"Traffic noise, roadway noise", "Vehicle", "Motor vehicle (road)", "Car", "Car passing by",
                "Truck", "Bus", "Motorcycle"},
    "car": {"Car", "Car passing by", "Motor vehicle (road)", "Vehicle", "Engine", "Idling"},
    "train": {"Train", "Rail transport", "Railroad car, train wagon", "Train wheels squealing", "Train horn",
              "Train whistle", "Subway, metro, underground"},
    "siren": {"Siren", "Civil defense siren", "Police car (siren)", "Ambulance (siren)",
              "Fire engine, fire truck (siren)", "Emergency vehicle"},
    "footsteps": {"Walk, footsteps", "Run", "Shuffle"},
    "knock": {"Knock", "Door", "Tap", "Thump, thud"},
    "typing": {"Typing", "Computer keyboard", "Typewriter", "Clicking"},
    "keyboard_typing": {"Typing", "Computer keyboard", "Typewriter", "Clicking"},
    "baby_cry": {"Baby cry, infant cry", "Crying, sobbing", "Whimper"},
    "laughter": {"Laughter", "Giggle", "Snicker", "Belly laugh", "Chuckle, chortle", "Baby laughter"},
    "cough": {"Cough", "Throat clearing", "Sneeze"},
    "crowd": {"Crowd", "Chatter", "Hubbub, speech noise, speech babble", "Cheering", "Applause"},
    "cheering": {"Cheering", "Crowd", "Applause", "Whoop"},
    "glass_break": {"Shatter", "Glass", "Breaking", "Smash, crash"},
    "gunshot": {"Gunshot, gunfire", "Machine gun", "Cap gun", "Explosion", "Bang"},
    "explosion": {"Explosion", "Boom", "Burst, pop", "Eruption"},
    "fireworks": {"Fireworks", "Firecracker", "Burst, pop", "Explosion"},
    "engine": {"Engine", "Idling", "Light engine (high frequency)", "Medium engine (mid frequency)",
               "Heavy engine (low frequency)", "Engine starting", "Accelerating, revving, vroom"},
    "doorbell": {"Doorbell", "Ding-dong", "Bell", "Chime", "Ding"},
    "horse": {"Horse", "Clip-clop", "Neigh, whinny"},
    "sheep": {"Sheep", "Bleat", "Goat"},
    "pig": {"Pig", "Oink"},
    "duck": {"Duck", "Quack"},
    "frog": {"Frog", "Croak"},
    "insects": {"Insect", "Cricket", "Buzz", "Bee, wasp, etc.", "Mosquito", "Fly, housefly"},
    "airplane": {"Fixed-wing aircraft, airplane", "Aircraft", "Aircraft engine", "Jet engine"},
    "chainsaw": {"Chainsaw", "Power tool", "Sawing"},
    "drill": {"Drill", "Power tool", "Dental drill, dentist's drill"},
    "hammer": {"Hammer", "Knock", "Thump, thud", "Tools"},
    "fire": {"Fire", "Crackle"},
    "microwave": {"Microwave oven", "Beep, bleep", "Ding"},
    "water_tap": {"Water tap, faucet", "Sink (filling or washing)", "Water", "Liquid"},
    "whistle": {"Whistle", "Whistling", "Steam whistle"},
    "buzzer": {"Buzzer", "Alarm", "Beep, bleep"},
    "beep": {"Beep, bleep", "Alarm", "Buzzer", "Ping", "Sine wave"},
    "ui_tone": {"Beep, bleep", "Ping", "Ding", "Sine wave", "Chime"},
    "notification": {"Beep, bleep", "Ping", "Ding", "Chime", "Sine wave"},
}.items()}


def audioset_names(truth_label: str) -> frozenset[str]:
    """AudioSet names for a truth label; an unknown label falls back to a title-cased guess."""
    key = truth_label.strip().lower()
    if key in TRUTH_TO_AUDIOSET:
        return TRUTH_TO_AUDIOSET[key]
    return frozenset({key.replace("_", " ").capitalize()})
